/**
 * The HTTP API: `createApp(deps, config)` builds the Fastify app over the service layer and never
 * listens (`tollgate serve` does; tests use `app.inject()` or listen on port 0). Every `/api` route
 * runs one of the service layer's use cases acting as the token's user: the operations of
 * service/use-cases.ts (which the CLI's local client wraps too), or the token and webhook use cases
 * for admins. So the CLI behaves the same in local and remote mode (DESIGN.md, Shape).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type * as z from 'zod';
import { actorOf } from '../audit/events.js';
import { ERRORS, TollgateError, tollgateError, type Problem } from '../domain/errors.js';
import { ADMIN_ROLE, rosterEntry } from '../domain/model.js';
import type { ServiceDeps } from '../service/deps.js';
import { activePolicy } from '../service/lookup.js';
import { vouchToken } from '../service/vouch.js';
import { createPasskeyUseCases, createUseCases } from '../service/use-cases.js';
import { relyingPartyOf, type RelyingParty } from '../service/passkeys.js';
import { createServerMetrics } from './metrics.js';
import { createReadCache, NO_CACHE, type ReadCache } from './read-cache.js';
import type { RouteSpec } from './route.js';
import { auditRoutes } from './routes/audit.js';
import { deliveryRoutes } from './routes/delivery.js';
import { checklistRoutes } from './routes/checklist.js';
import { healthRoutes } from './routes/health.js';
import { policyRoutes } from './routes/policies.js';
import { promotionRoutes } from './routes/promotions.js';
import { releaseRoutes } from './routes/releases.js';
import { signoffRoutes } from './routes/signoffs.js';
import { tokenRoutes } from './routes/tokens.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { validationRoutes } from './routes/validations.js';
import { webhookRoutes } from './routes/webhooks.js';
import { change } from '../service/change.js';
import { createDispatcher, type DispatcherOptions } from '../webhooks/dispatcher.js';
import { BODY_LIMITS, Empty } from './schemas.js';
import { storageFailure } from '../domain/failures.js';
import { useBoundedJsonParser } from './json-body.js';
import { clientErrorHandler } from './client-error.js';
import { useRateLimit, type RateLimitConfig } from './rate-limit.js';
import type { OidcVerifier } from './oidc.js';
import { authenticate, type TokenIdentity } from './auth.js';
import { deskPlugin, type DeskConfig } from './desk/desk.js';

/** The role that may apply policies and manage API tokens over the API (defined with the model). */
export { ADMIN_ROLE };

export interface ServerConfig {
  /**
   * Fastify's logger (pino): false for none, true for JSON lines on stdout at `info`, or pino options
   * (`{ level, stream }`). The Authorization header is always redacted; bodies are never logged.
   */
  readonly logger?: boolean | Readonly<Record<string, unknown>>;
  /** Also export the process's metrics (CPU, memory, event loop) on `/metrics`. */
  readonly processMetrics?: boolean;
  /** The version `/openapi.json` reports. */
  readonly version?: string;
  /**
   * Send the webhook outbox from this process while the app is up (started when it is ready, stopped,
   * in-flight tries recorded, when it closes). Off unless given: `serve` turns it on.
   */
  readonly webhooks?: false | Partial<Omit<DispatcherOptions, 'store'>>;
  /**
   * Keep answers that only change when the store does (status decisions, the policy, token
   * identities) in memory until the store's change marker moves. On by default.
   */
  readonly readCache?: boolean;
  /** Verifies OIDC bearer tokens (JWTs); without it only `tg_` API tokens are accepted. */
  readonly oidc?: OidcVerifier;
  /** Serve the review desk's pages (`/`, `/login`, `/releases/…`); off unless given: `serve` turns it on. */
  readonly desk?: DeskConfig;
  /**
   * This server as browsers see it (the WebAuthn relying party: RP ID, origin, name), for passkeys and
   * passkey sign-offs; asked when needed, since `serve --port 0` knows its port only once listening.
   */
  readonly relyingParty?: () => RelyingParty;
  /** Per-identity request limits on `/api` routes (rate-limit.ts), or false for none (the default; `serve` sets them). */
  readonly rateLimit?: RateLimitConfig | false;
}

// Defaults, one table:   option            default
//                        logger            false (no logs; `serve` turns them on)
//                        processMetrics    false (`serve` turns them on)
//                        version           0.1.0
//                        readCache         true
//                        relyingParty      http://localhost (RP ID localhost): `serve` passes its public URL
//                        rateLimit         false (no limits; `serve` passes its limits, RATE_LIMIT_DEFAULTS unless set)
const DEFAULTS = {
  logger: false,
  processMetrics: false,
  version: '0.1.0',
  readCache: true,
  relyingParty: () => relyingPartyOf('http://localhost'),
  rateLimit: false as RateLimitConfig | false,
} as const;

/** Secrets that must never reach a log line, whatever a serializer is told to include. */
const REDACT = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'];

/** Every route of the API and of operations, in the order `/openapi.json` lists them. */
function allRoutes(version: string): RouteSpec[] {
  const api: RouteSpec[] = [
    ...policyRoutes,
    ...releaseRoutes,
    ...checklistRoutes,
    ...signoffRoutes,
    ...validationRoutes,
    ...promotionRoutes,
    ...auditRoutes,
    ...deliveryRoutes,
    ...tokenRoutes,
    ...webhookRoutes,
    ...passkeyRoutes,
  ];
  const all: RouteSpec[] = [...healthRoutes(() => all, version), ...api];
  return all;
}

export function createApp(deps: ServiceDeps, config: ServerConfig = {}): FastifyInstance {
  const settings = Object.freeze({ ...DEFAULTS, ...config });
  const logger = settings.logger === false ? false : { level: 'info', ...(settings.logger === true ? {} : settings.logger), redact: REDACT };
  const app = Fastify({
    logger,
    bodyLimit: BODY_LIMITS.default,
    // A `__proto__` or `constructor.prototype` key in a body is refused, not merged into an object.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Release names and validation input paths can be longer than find-my-way's default of 100.
    routerOptions: { maxParamLength: 500 },
    // No implicit HEAD twins: every route the app answers is one declared below.
    exposeHeadRoutes: false,
    // Errors found before routing (a malformed URL, a path segment that is too long) take the same
    // way as every other error, so they too answer with a code.
    frameworkErrors: (err, req, reply) => void sendError(err, req, reply),
    // Requests Node cannot even read (headers too large) answer with a code too.
    clientErrorHandler,
  });
  const registered: RouteInfo[] = [];
  app.addHook('onRoute', (route) => {
    // The review desk's pages are not part of the API (nor of its description).
    if (route.config?.desk) return;
    for (const method of [route.method].flat()) registered.push({ method, url: route.url });
  });
  ROUTES.set(app, registered);
  const metrics = createServerMetrics({ process: settings.processMetrics });
  const caches = settings.readCache ? createReadCache(deps.store) : NO_CACHE;
  const requestCaches = new WeakMap<FastifyRequest, ReadCache>();
  const cacheOf = (req: FastifyRequest): ReadCache => {
    let cache = requestCaches.get(req);
    if (!cache) requestCaches.set(req, (cache = caches.forRequest()));
    return cache;
  };
  /** Token lookups and the active policy, through the request's cache: every request needs both. */
  const cachedStore = (cache: ReadCache) => ({
    // Unknown tokens are not kept: a stream of made-up ones would only push the real ones out.
    // Both checked against the audit log before they identify or authorize anyone (docs/state.md).
    findTokenByHash: (hash: string) =>
      cache.get(`token:${hash}`, deps.now().getTime(), async () => {
        const token = await deps.store.findTokenByHash(hash);
        return { value: token && (await vouchToken(deps.store, token)), until: token ? Infinity : 0 };
      }),
    activePolicy: () => cache.get('policy', deps.now().getTime(), async () => ({ value: await activePolicy(deps.store) })),
  });
  const identities = new WeakMap<FastifyRequest, TokenIdentity>();

  // JSON only: a text/plain body would reach the schemas as a string and be refused less clearly.
  app.removeContentTypeParser('text/plain');
  useBoundedJsonParser(app);
  const limit = useRateLimit(app, settings.rateLimit);

  if (settings.webhooks) {
    const dispatcher = createDispatcher({
      store: deps.store,
      now: deps.now,
      log: app.log,
      onAttempt: (outcome) => metrics.webhook(outcome),
      ...settings.webhooks,
    });
    app.addHook('onReady', async () => dispatcher.start());
    app.addHook('onClose', async () => dispatcher.stop());
  }

  /**
   * A request outside its caller's rights (403) leaves an audit event: who tried what, and the answer.
   * Unauthenticated requests (401) do not: anyone can send those, and they would flood the log.
   */
  async function recordRefusal(err: unknown, req: FastifyRequest, user = identities.get(req)?.user): Promise<void> {
    if (!(err instanceof TollgateError) || err.status !== 403) return;
    try {
      await change(deps, async ({ audit }) => {
        await audit('AccessDenied', user ? actorOf(user) : 'anonymous', {
          method: req.method,
          route: req.routeOptions.url ?? req.url.split('?')[0],
          code: err.code,
          message: err.message,
        });
      });
    } catch (recordErr) {
      req.log.error({ err: recordErr }, 'could not record the refusal in the audit log');
    }
  }

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    await recordRefusal(err, req);
    return sendError(err, req, reply);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    return sendError(tollgateError('TG_ROUTE_NOT_FOUND', `no route ${req.method} ${path}`), req, reply);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.request(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  /** Who the request speaks for, checked before the body is even read (401 and 403 before 400). */
  async function authorize(spec: RouteSpec, req: FastifyRequest): Promise<TokenIdentity> {
    const store = cachedStore(cacheOf(req));
    const identity = await authenticate(store, req.headers.authorization, deps.now(), settings.oidc);
    // Known from here on, so that a refusal below is audited under the caller's name.
    identities.set(req, identity);
    // A client that says who it acts as (`--as` over `--server`) must hold that person's token.
    const claimed = req.headers['x-tollgate-as'];
    if (typeof claimed === 'string' && claimed !== identity.user) {
      throw tollgateError('TG_IDENTITY_MISMATCH', `the request says it acts as "${claimed}", but its token is ${identity.user}'s`);
    }
    const active = await store.activePolicy();
    if (!active) {
      if (spec.access === 'admin' && !spec.bootstrap) {
        throw tollgateError('TG_NO_POLICY', `no policy has been applied yet, so no one holds the "${ADMIN_ROLE}" role`);
      }
      return identity;
    }
    const roster = active.policy.roster;
    if (!rosterEntry(active.policy, identity.user)) {
      throw tollgateError('TG_USER_UNKNOWN', `the token's user "${identity.user}" is not in the roster of policy ${active.policy.name}`);
    }
    if (spec.access === 'admin' && !rosterEntry(active.policy, identity.user)!.roles.includes(ADMIN_ROLE)) {
      throw tollgateError('TG_NOT_ALLOWED', `${identity.user} may not ${spec.does ?? `${spec.method} ${spec.url}`} over the API: that needs the "${ADMIN_ROLE}" role in the roster`, {
        hint: `Ask a roster member with the "${ADMIN_ROLE}" role, or run the command on the server's home without --server.`,
      });
    }
    return identity;
  }

  if (settings.desk) {
    const desk = settings.desk;
    void app.register(deskPlugin, { deps, config: desk, relyingParty: settings.relyingParty, ...(settings.oidc ? { verifier: settings.oidc } : {}), recordRefusal });
  }

  for (const spec of allRoutes(settings.version)) {
    app.route({
      method: spec.method,
      url: spec.url,
      ...(spec.bodyLimit !== undefined ? { bodyLimit: spec.bodyLimit } : {}),
      ...(spec.access !== 'public'
        ? {
            onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
              let identity: TokenIdentity;
              try {
                identity = await authorize(spec, req);
              } catch (err) {
                // A refusal counts against the caller too: past the limit it is answered 429 and not
                // audited, so a stream of forbidden requests cannot flood the log with AccessDenied.
                await limit(req, reply, identities.get(req)?.user);
                throw err;
              }
              await limit(req, reply, identity.user);
              identities.set(req, identity);
            },
          }
        : {}),
      handler: async (req, reply) => {
        const params = validate(spec.params ?? Empty, req.params ?? {}, 'path');
        const query = validate(spec.query ?? Empty, req.query ?? {}, 'query');
        // A POST without a body is read as an empty object: the schema then names what is missing.
        const body = spec.body ? validate(spec.body, req.body === undefined ? {} : req.body, 'body') : undefined;
        const user = identities.get(req)?.user;
        const result = await spec.handler({
          params,
          query,
          body,
          user,
          deps,
          metrics,
          cache: cacheOf(req),
          reply,
          useCases: () => createUseCases(deps, user),
          passkeyUseCases: () => createPasskeyUseCases(deps, user),
        });
        if (spec.status !== undefined && reply.statusCode === 200) void reply.code(spec.status);
        return result;
      },
    });
  }
  return app;
}

export interface RouteInfo {
  readonly method: string;
  readonly url: string;
}

const ROUTES = new WeakMap<FastifyInstance, readonly RouteInfo[]>();

/** Every route the app registered, as Fastify saw it (an onRoute hook): for tests that must miss none. */
export function registeredRoutes(app: FastifyInstance): readonly RouteInfo[] {
  return ROUTES.get(app) ?? [];
}

/** Checks a part of the request against its schema; TG_REQUEST_INVALID lists every problem. */
function validate<T>(schema: z.ZodType<T>, data: unknown, part: 'path' | 'query' | 'body'): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems: Problem[] = parsed.error.issues.map((i) => ({
    path: [part, ...i.path.map(String)].join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}` : i.message,
  }));
  const shown = problems.slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ');
  throw tollgateError('TG_REQUEST_INVALID', `invalid request ${part}: ${shown}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`, { problems });
}

/** What Fastify itself refuses (unparsable JSON, a body too large, another content type) in our codes. */
function asTollgateError(err: FastifyError, req: FastifyRequest): TollgateError | undefined {
  if (err instanceof TollgateError) return err;
  const storage = storageFailure(err);
  if (storage) return storage;
  const status = err.statusCode;
  if (status === undefined || status < 400 || status >= 500) return undefined;
  if (status === 413) {
    const limit = req.routeOptions.bodyLimit ?? BODY_LIMITS.default;
    return tollgateError('TG_REQUEST_TOO_LARGE', `the request body is larger than this route accepts (${limit} bytes)`);
  }
  if (status === 414 || err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return tollgateError('TG_REQUEST_INVALID', 'a part of the request path is too long (at most 500 characters)');
  }
  if (status === 415) {
    return tollgateError('TG_REQUEST_INVALID', `send the body as application/json (got ${JSON.stringify(req.headers['content-type'] ?? '')})`);
  }
  // Fastify's own messages are short and name no internals: "Body is not valid JSON…", "Unexpected token…".
  return tollgateError('TG_REQUEST_INVALID', `invalid request: ${err.message}`);
}

function sendError(err: FastifyError | TollgateError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const known = asTollgateError(err as FastifyError, req);
  if (known) {
    if (known.status >= 500) req.log.error({ code: known.code, msg: known.message }, 'request failed');
    else req.log.info({ code: known.code }, 'request refused');
    return reply.code(known.status).send(known.toJSON());
  }
  // Anything else is a bug or an environment problem: the log gets the details, the caller a generic answer.
  req.log.error({ err }, 'unexpected error');
  return reply.code(500).send({
    error: { code: 'TG_INTERNAL', message: `internal error (request ${req.id}); the server log has the details`, hint: ERRORS.TG_INTERNAL.hint },
  });
}

