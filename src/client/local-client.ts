import type { ServiceDeps } from '../service/deps.js';
import { createUseCases, type UseCaseOptions } from '../service/use-cases.js';
import type { Client } from './client.js';

export type LocalClientOptions = UseCaseOptions;

/** The Client over the service layer in this process: the CLI's local mode. Closing it closes the store. */
export function createLocalClient(deps: ServiceDeps, actor: string | undefined, options: LocalClientOptions = {}): Client {
  return { ...createUseCases(deps, actor, options), close: () => deps.store.close() };
}
