import type { ServiceDeps } from '../service/deps.js';
import { createUseCases } from '../service/use-cases.js';
import type { Client } from './client.js';

/** The Client over the service layer in this process: the CLI's local mode. Closing it closes the store. */
export function createLocalClient(deps: ServiceDeps, actor: string | undefined): Client {
  return { ...createUseCases(deps, actor), close: () => deps.store.close() };
}
