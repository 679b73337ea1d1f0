/**
 * How a route is declared: method, path, who may call it, and zod schemas for its path parameters,
 * query and body. One declaration drives three things: the Fastify route, its validation, and its
 * entry in `/openapi.json`.
 */
import type { FastifyReply } from 'fastify';
import type * as z from 'zod';
import type { ServiceDeps } from '../service/deps.js';
import type { PasskeyUseCases, UseCases } from '../service/use-cases.js';
import type { ServerMetrics } from './metrics.js';
import type { ReadCache } from './read-cache.js';

/**
 * Who may call a route:
 * - `public`: anyone (health, metrics, the API description);
 * - `member`: a valid API token whose user is in the active policy's roster (any user while no policy
 *   has been applied: the service layer then answers TG_NO_POLICY where a policy is needed);
 * - `admin`: a member holding the `admin` role; with no policy yet, `bootstrap` routes let any valid
 *   token in, so that the first policy can be applied over the API.
 */
export type Access = 'public' | 'member' | 'admin';

export interface RouteContext<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The token's user; undefined on public routes. */
  readonly user: string | undefined;
  readonly deps: ServiceDeps;
  readonly metrics: ServerMetrics;
  /** Answers kept until the store changes (see read-cache.ts); key them by everything they depend on. */
  readonly cache: ReadCache;
  readonly reply: FastifyReply;
  /** The use cases acting as the token's user: every API route but the admin ones is one of their operations. */
  useCases(): UseCases;
  /** The passkey use cases acting as the token's user. */
  passkeyUseCases(): PasskeyUseCases;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Fastify path syntax: `/api/releases/:ref`. */
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  /** With `admin`: what the route does, for the refusal (`apply a policy` → "bob may not apply a policy"). */
  readonly does?: string;
  /** With `admin`: allowed to any valid token while no policy is active (applying the first policy). */
  readonly bootstrap?: boolean;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  /** Bytes; the app's default (1 MiB) when absent. */
  readonly bodyLimit?: number;
  /** The status of a success: 200 unless said. */
  readonly status?: number;
  /** What a success answers, for the API description. */
  readonly returns: string;
  /** The JSON answer, or a string sent as is (with the content type the handler set). */
  handler(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Declares a route, inferring its parameter, query and body types from its schemas. */
export function defineRoute<P = Record<string, never>, Q = Record<string, never>, B = undefined>(spec: RouteSpec<P, Q, B>): RouteSpec {
  return spec as unknown as RouteSpec;
}
