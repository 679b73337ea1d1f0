import fs from 'node:fs';
import path from 'node:path';
import { tollgateError } from '../domain/errors.js';

/** Everything the CLI reads from flags and the environment, read once and frozen (STYLE.md rule 7). */
export interface CliConfig {
  readonly home: string;
  readonly databaseUrl: string;
  readonly user?: string;
  readonly json: boolean;
  readonly server?: string;
  readonly token?: string;
  readonly cwd: string;
  /**
   * A fixed clock (TOLLGATE_NOW, an ISO 8601 time with a zone): every decision and record of the run
   * is made as at that moment. For tests and for replaying a decision as it stood; local mode only
   * (a server keeps its own clock).
   */
  readonly now?: Date;
  /**
   * The environment a hand-off to deployment gets (a command, `git`): only these few variables of
   * Tollgate's own (HANDOFF_ENV), so no TOLLGATE_* secret (a token, a database password) reaches it.
   */
  readonly handoffEnv: Readonly<Record<string, string>>;
  /** TOLLGATE_ALLOW_PRIVATE_WEBHOOKS=1: webhooks may point at private addresses (local mode; `serve --allow-private-webhooks`). */
  readonly allowPrivateWebhooks: boolean;
}

/** What a hand-off's program may need of the caller's environment: finding programs, a home for git's configuration and keys, the locale. */
export const HANDOFF_ENV = ['PATH', 'HOME', 'USER', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SSH_AUTH_SOCK'] as const;

export interface GlobalFlags {
  home?: string;
  database?: string;
  server?: string;
  as?: string;
  json?: boolean;
}

// Defaults, one table:            flag          env                     default
//   home                          --home        TOLLGATE_HOME           .tollgate (in the current folder)
//   database                      --database    TOLLGATE_DATABASE_URL   <home>/tollgate.db
//   user                          --as          TOLLGATE_USER           none
//   server (remote mode)          --server      TOLLGATE_SERVER         none (local mode)
//   token                         -             TOLLGATE_TOKEN          none
//   clock                         -             TOLLGATE_NOW            the system clock
//   private webhook addresses     -             TOLLGATE_ALLOW_PRIVATE_WEBHOOKS=1   refused
export function loadConfig(env: NodeJS.ProcessEnv, flags: GlobalFlags, cwd: string): CliConfig {
  const home = path.resolve(cwd, flags.home ?? env.TOLLGATE_HOME ?? '.tollgate');
  const databaseUrl = flags.database ?? env.TOLLGATE_DATABASE_URL ?? path.join(home, 'tollgate.db');
  const user = flags.as ?? env.TOLLGATE_USER;
  const server = flags.server ?? env.TOLLGATE_SERVER;
  const now = fixedClock(env.TOLLGATE_NOW);
  return Object.freeze({
    home,
    databaseUrl,
    json: flags.json === true,
    cwd,
    handoffEnv: Object.freeze(Object.fromEntries(HANDOFF_ENV.flatMap((k) => (env[k] !== undefined ? [[k, env[k]]] : [])))),
    allowPrivateWebhooks: env.TOLLGATE_ALLOW_PRIVATE_WEBHOOKS === '1',
    ...(user ? { user } : {}),
    ...(server ? { server } : {}),
    ...(env.TOLLGATE_TOKEN ? { token: env.TOLLGATE_TOKEN } : {}),
    ...(now ? { now } : {}),
  });
}

/** TOLLGATE_NOW as a time, or TG_USAGE: a clock half understood would record the wrong times. */
function fixedClock(text: string | undefined): Date | undefined {
  if (text === undefined || text === '') return undefined;
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ? new Date(text) : undefined;
  if (at === undefined || Number.isNaN(at.getTime())) {
    throw tollgateError('TG_USAGE', `TOLLGATE_NOW=${text} is not a time with a zone, e.g. 2026-12-24T09:00:00Z`);
  }
  return at;
}

/** What `tollgate serve` reads besides the global settings, read once, validated and frozen like them. */
export interface ServeConfig {
  /** The OIDC configuration file, absolute; none: only API tokens are accepted. */
  readonly oidcFile?: string;
  /** The webhook dispatcher's timings (only those set; the rest are DISPATCH_DEFAULTS), or false: this replica sends none. */
  readonly webhooks: false | Readonly<Partial<Record<WebhookTiming, number>>>;
  /**
   * The URL browsers reach this server at, as its origin (`https://tollgate.example.com`): passkeys
   * are bound to its host name (the WebAuthn RP ID) and sign-offs to its origin. Absent:
   * `http://localhost:PORT`, the port the server listens on.
   */
  readonly publicUrl?: string;
  /** Webhooks may point at loopback, private, link-local and reserved addresses. */
  readonly allowPrivateWebhooks: boolean;
  /** Per-identity limits a minute (server/rate-limit.ts), or false: none. */
  readonly rateLimit: false | Readonly<{ max: number; writes: number; windowMs: number }>;
}

export interface ServeFlags {
  /** `--oidc FILE`. */
  readonly oidc?: string;
  /** False with `--no-webhooks`. */
  readonly webhooks: boolean;
  /** `--public-url URL`. */
  readonly publicUrl?: string;
  /** `--allow-private-webhooks`. */
  readonly allowPrivateWebhooks?: boolean;
  /** `--rate-limit N`: requests a minute per identity; 0 turns the limits off. */
  readonly rateLimit?: string;
  /** `--rate-limit-writes N`: changes (POST, DELETE) a minute per identity. */
  readonly rateLimitWrites?: string;
}

/** The dispatcher timings the environment may set, by their variable's suffix: TOLLGATE_WEBHOOK_POLL_MS … */
const WEBHOOK_TIMINGS = {
  pollMs: 'POLL_MS',
  leaseMs: 'LEASE_MS',
  timeoutMs: 'TIMEOUT_MS',
  backoffMs: 'BACKOFF_MS',
  backoffMaxMs: 'BACKOFF_MAX_MS',
  maxAttempts: 'MAX_ATTEMPTS',
} as const;
type WebhookTiming = keyof typeof WEBHOOK_TIMINGS;

const OIDC_FILE = 'oidc.yaml';

// Defaults, one table (serve):   flag            env                       default
//   OIDC configuration           --oidc          TOLLGATE_OIDC             <home>/oidc.yaml if it exists, else none
//   sending webhooks             --no-webhooks   -                         on
//   dispatcher timings           -               TOLLGATE_WEBHOOK_POLL_MS, _LEASE_MS, _TIMEOUT_MS,
//                                                _BACKOFF_MS, _BACKOFF_MAX_MS, _MAX_ATTEMPTS     DISPATCH_DEFAULTS
//   public URL (passkeys)        --public-url    TOLLGATE_PUBLIC_URL       http://localhost:PORT
//   private webhook addresses    --allow-private-webhooks  TOLLGATE_ALLOW_PRIVATE_WEBHOOKS=1  refused
//   requests a minute, per user  --rate-limit N           TOLLGATE_RATE_LIMIT         600 (0: no limits at all)
//   changes a minute, per user   --rate-limit-writes N    TOLLGATE_RATE_LIMIT_WRITES  120
//
// Read only for `serve`, when it starts: a bad TOLLGATE_WEBHOOK_* value stops the server, and no
// other command (nor `serve --no-webhooks`, which sends nothing) is refused for it.
export function loadServeConfig(env: NodeJS.ProcessEnv, flags: ServeFlags, config: CliConfig): ServeConfig {
  const webhooks = flags.webhooks ? webhookTimings(env) : false;
  const named = flags.oidc ?? (env.TOLLGATE_OIDC || undefined);
  const oidcFile = named !== undefined ? path.resolve(config.cwd, named) : defaultOidcFile(config.home);
  const url = flags.publicUrl ?? (env.TOLLGATE_PUBLIC_URL || undefined);
  const publicUrl = url !== undefined ? publicOrigin(url, flags.publicUrl !== undefined ? '--public-url' : 'TOLLGATE_PUBLIC_URL') : undefined;
  const allowPrivateWebhooks = flags.allowPrivateWebhooks === true || config.allowPrivateWebhooks;
  const max = perMinute(flags.rateLimit, '--rate-limit', env.TOLLGATE_RATE_LIMIT, 'TOLLGATE_RATE_LIMIT', 600);
  const writes = perMinute(flags.rateLimitWrites, '--rate-limit-writes', env.TOLLGATE_RATE_LIMIT_WRITES, 'TOLLGATE_RATE_LIMIT_WRITES', 120);
  const rateLimit = max === 0 ? (false as const) : Object.freeze({ max, writes: Math.min(writes, max), windowMs: 60_000 });
  return Object.freeze({ webhooks, allowPrivateWebhooks, rateLimit, ...(oidcFile !== undefined ? { oidcFile } : {}), ...(publicUrl !== undefined ? { publicUrl } : {}) });
}

/**
 * The origin of the public URL: http or https, a host name, no user name or password. Browsers hold
 * passkeys for a host name (the RP ID), so an IP address is refused by them; it is taken here, for a
 * server that serves only the API, and docs/passkeys.md says so.
 */
function publicOrigin(text: string, from: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw tollgateError('TG_USAGE', `${from} ${text} is not a URL; give where browsers reach this server, e.g. https://tollgate.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw tollgateError('TG_USAGE', `${from} ${text} must start with https:// (or http://)`);
  if (url.username !== '' || url.password !== '') throw tollgateError('TG_USAGE', `${from} ${text} must not hold a user name or password`);
  return url.origin;
}

/** A count a minute from the flag, else the variable, else the default; TG_USAGE when not a whole number. */
function perMinute(flag: string | undefined, flagName: string, envText: string | undefined, envName: string, fallback: number): number {
  const [text, from] = flag !== undefined ? [flag, flagName] : envText !== undefined && envText !== '' ? [envText, `${envName}=`] : [undefined, ''];
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw tollgateError('TG_USAGE', `${from}${from.endsWith('=') ? '' : ' '}${text} is not a whole number of requests a minute (0: no limits)`);
  return Number(text);
}

function webhookTimings(env: NodeJS.ProcessEnv): Readonly<Partial<Record<WebhookTiming, number>>> {
  const out: Partial<Record<WebhookTiming, number>> = {};
  for (const [key, suffix] of Object.entries(WEBHOOK_TIMINGS) as [WebhookTiming, string][]) {
    const text = env[`TOLLGATE_WEBHOOK_${suffix}`];
    if (text === undefined || text === '') continue;
    if (!/^\d+$/.test(text) || Number(text) < 1) throw tollgateError('TG_USAGE', `TOLLGATE_WEBHOOK_${suffix}=${text} is not a whole number of at least 1`);
    out[key] = Number(text);
  }
  return Object.freeze(out);
}

/** `<home>/oidc.yaml` when it exists: a home set up for OIDC needs no flag. */
function defaultOidcFile(home: string): string | undefined {
  const file = path.join(home, OIDC_FILE);
  return fs.existsSync(file) ? file : undefined;
}
