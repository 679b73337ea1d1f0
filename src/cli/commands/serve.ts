import type { Command } from 'commander';
import { tollgateError } from '../../domain/errors.js';
import { createApp } from '../../server/app.js';
import { createOidcVerifier, loadOidcConfig } from '../../server/oidc.js';
import { loadServeConfig } from '../config.js';
import type { CliContext } from '../context.js';

const DEFAULT_PORT = 7480;
const DEFAULT_HOST = '127.0.0.1';

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw tollgateError('TG_USAGE', `--port ${text} is not a TCP port (0 to 65535; 0 picks a free one)`);
  return port;
}

export function registerServe(program: Command, ctx: CliContext, version: string): void {
  program
    .command('serve')
    .description('serve the HTTP API (/api/…, OpenAPI at /openapi.json), /healthz, /readyz and /metrics over the database of the home (SQLite, or PostgreSQL with --database postgres://… for several replicas), and send webhook deliveries; stops cleanly on SIGTERM or Ctrl-C')
    .option('--port <port>', `TCP port to listen on (0: any free port)`, String(DEFAULT_PORT))
    .option('--host <host>', 'address to listen on (0.0.0.0: every interface)', DEFAULT_HOST)
    .option('--oidc <file>', `trust OIDC bearer tokens (JWTs) of the issuers this file names (env TOLLGATE_OIDC; default: <home>/oidc.yaml if it exists; docs/oidc.md)`)
    .option('--no-webhooks', 'do not send webhook deliveries from this replica (others on the same database still do)')
    .option('--public-url <url>', 'where browsers reach this server: passkeys are bound to its host name, sign-offs to its origin, Slack and Teams webhook messages link release pages there (env TOLLGATE_PUBLIC_URL; default http://localhost:PORT, and no links; docs/passkeys.md)')
    .option('--allow-private-webhooks', 'let webhooks point at loopback, private, link-local (cloud metadata) and reserved addresses (env TOLLGATE_ALLOW_PRIVATE_WEBHOOKS=1; default: refused, docs/webhooks.md)')
    .option('--rate-limit <n>', 'API requests a minute per user (per address without a valid token); past it 429 TG_RATE_LIMITED with Retry-After; 0 turns the limits off (env TOLLGATE_RATE_LIMIT; default 600)')
    .option('--rate-limit-writes <n>', 'API changes (POST, DELETE) a minute per user (env TOLLGATE_RATE_LIMIT_WRITES; default 120)')
    .action(async (opts: { port: string; host: string; oidc?: string; webhooks: boolean; publicUrl?: string; allowPrivateWebhooks?: boolean; rateLimit?: string; rateLimitWrites?: string }) => {
      const port = parsePort(opts.port);
      const { webhooks, oidcFile, publicUrl, allowPrivateWebhooks, rateLimit } = loadServeConfig(ctx.io.env, opts, ctx.config());
      const { relyingPartyOf } = await import('../../service/passkeys.js');
      // Without a public URL, the port the server listens on (known once it does, with --port 0).
      let listening = port;
      const configured = publicUrl !== undefined ? relyingPartyOf(publicUrl) : undefined;
      const relyingParty = () => configured ?? relyingPartyOf(`http://localhost:${listening}`);
      const oidcConfig = oidcFile !== undefined ? loadOidcConfig(oidcFile) : undefined;
      const oidc = oidcConfig ? createOidcVerifier(oidcConfig) : undefined;
      const deps = { ...(await ctx.openDeps()), allowPrivateWebhooks };
      // Logs are JSON lines on stdout (pino): tokens and sign-off signatures never go into them.
      const app = createApp(deps, {
        logger: { level: 'info', stream: { write: (line: string) => ctx.io.stdout(line) } },
        processMetrics: true,
        version,
        // Chat messages link the release page only at an address given: the default one is this machine's.
        webhooks: webhooks && { ...webhooks, allowPrivate: allowPrivateWebhooks, ...(publicUrl !== undefined ? { publicUrl } : {}) },
        rateLimit,
        relyingParty,
        ...(oidc ? { oidc } : {}),
        desk: { ...(oidcConfig ? { oidc: oidcConfig } : {}) },
      });
      try {
        await app.listen({ port, host: opts.host });
      } catch (err) {
        await app.close();
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') throw tollgateError('TG_USAGE', `port ${port} on ${opts.host} is already in use; choose another with --port`);
        if (code === 'EACCES') throw tollgateError('TG_USAGE', `not allowed to listen on ${opts.host}:${port}; choose a port above 1023`);
        if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw tollgateError('TG_USAGE', `--host ${opts.host} is not an address of this machine`);
        throw err;
      }
      const address = app.server.address();
      if (address && typeof address === 'object') listening = address.port;
      const url =
        address && typeof address === 'object'
          ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
          : `http://${opts.host}:${port}`;
      // stderr, so stdout stays pure JSON log lines.
      ctx.io.stderr(`tollgate serving ${url} (review desk ${url}/, API ${url}/api, OpenAPI ${url}/openapi.json; passkeys for ${relyingParty().origin}); stop with Ctrl-C or SIGTERM\n`);

      // In-flight requests finish, then the listener and the store close; a second signal is not needed.
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          app.log.info({ signal }, 'shutting down');
          app.close().then(
            () => resolve(),
            (err: unknown) => {
              app.log.error({ err }, 'error while shutting down');
              resolve();
            },
          );
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
