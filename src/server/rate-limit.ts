/**
 * Per-identity request limits for the API (issue 13, finding 4): any roster member could write 200
 * audit events in 3 s. Counted per authenticated user (the token's user, OIDC included), or per
 * address for requests that name no valid identity; state-changing requests (POST, DELETE) have a
 * second, smaller budget. Refused requests count too (an AccessDenied flood is limited like the
 * rest), and a limited request records nothing. Counters live in the process (@fastify/rate-limit's
 * memory store): with several replicas each keeps its own.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tollgateError } from '../domain/errors.js';

export interface RateLimitConfig {
  /** Requests of one identity per window, reads and writes together. */
  readonly max: number;
  /** POST and DELETE requests of one identity per window. */
  readonly writes: number;
  /** The window, in milliseconds. */
  readonly windowMs: number;
}

// Defaults, one table:   option     default
//                        max        600 a minute (10 a second, sustained)
//                        writes     120 a minute (a sign-off, a promotion, a check each half-second)
//                        windowMs   60 s
export const RATE_LIMIT_DEFAULTS: RateLimitConfig = Object.freeze({ max: 600, writes: 120, windowMs: 60_000 });

/** Counts one request of `who` (a user, or undefined: the address), throwing TG_RATE_LIMITED with Retry-After past a limit. */
export type RateLimiter = (req: FastifyRequest, reply: FastifyReply, who: string | undefined) => Promise<void>;

/** Registers the limiter on the app; `false`: no limits (the returned limiter does nothing). */
export function useRateLimit(app: FastifyInstance, config: RateLimitConfig | false): RateLimiter {
  if (config === false) return async () => {};
  void app.register(rateLimit, { global: false });
  const keys = new WeakMap<FastifyRequest, string>();
  type Limit = ReturnType<FastifyInstance['createRateLimit']>;
  let all: Limit | undefined;
  let writes: Limit | undefined;
  return async (req, reply, who) => {
    // Created at the first request: the plugin's decorator exists once the app is ready.
    all ??= app.createRateLimit({ keyGenerator: (r) => `all:${keys.get(r)}`, max: config.max, timeWindow: config.windowMs });
    writes ??= app.createRateLimit({ keyGenerator: (r) => `write:${keys.get(r)}`, max: config.writes, timeWindow: config.windowMs });
    keys.set(req, who !== undefined ? `user:${who}` : `ip:${req.ip}`);
    const limits = req.method === 'GET' ? [all] : [all, writes];
    for (const limit of limits) {
      const result = await limit(req);
      if (!result.isAllowed && result.isExceeded) {
        void reply.header('retry-after', String(result.ttlInSeconds));
        throw tollgateError(
          'TG_RATE_LIMITED',
          `too many ${limit === writes ? 'changes' : 'requests'} from ${who ?? req.ip}: at most ${result.max} in ${config.windowMs / 1000} s; try again in ${result.ttlInSeconds} s`,
        );
      }
    }
  };
}
