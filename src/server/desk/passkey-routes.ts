/**
 * Passkeys on the review desk: registering one, and signing off with one. Wired to the passkey use
 * cases (service/passkeys.ts) once they exist; until then the desk offers no passkey action.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServiceDeps } from '../../service/deps.js';
import type { DeskUseCases as UseCases } from '../../service/use-cases.js';
import type { DeskConfig } from './desk.js';

export interface PasskeyRouteDeps {
  readonly deps: ServiceDeps;
  readonly config: DeskConfig;
  readonly guarded: { onRequest: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>; preHandler: (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void; config: { desk: true } };
  readonly people: WeakMap<FastifyRequest, { user: string; roles: readonly string[] }>;
  readonly useCasesOf: (req: FastifyRequest) => UseCases;
}

/** How many passkeys `user` has registered. */
export async function passkeyCount(_deps: ServiceDeps, _user: string): Promise<number> {
  return 0;
}

export async function registerPasskeyRoutes(_app: FastifyInstance, _d: PasskeyRouteDeps): Promise<void> {}
