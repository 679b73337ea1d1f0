/**
 * What every command gets. The client, the store and the admin pieces are imported when a command
 * opens them, not when the CLI starts: a local `status` never loads the HTTP client, `--version`
 * loads neither (issue 9: start-up time is mostly module loading).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import type { PasskeyAdmin, TokenAdmin, WebhookAdmin } from '../client/admin.js';
import type { Client } from '../client/client.js';
import type { ServiceDeps } from '../service/deps.js';
import type { HttpOptions } from '../client/http-transport.js';
import { tollgateError } from '../domain/errors.js';
import { loadConfig, type CliConfig, type GlobalFlags } from './config.js';
import { loadOrigin, loadPreviousServerKeys, loadServerKey } from './home.js';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** A person at a terminal (stderr is a TTY and not CI): `validate` draws its progress (live-steps.ts). */
  readonly interactive: boolean;
}

/** What every command gets: configuration, output that honours `--json`, and the client. */
export interface CliContext {
  readonly io: Io;
  config(): CliConfig;
  /** Prints `json` under `--json`, else the human text (lines joined). */
  emit(json: unknown, human: () => string | string[]): void;
  /** Notes for people (progress, hints): stderr, silent under `--json`. */
  note(text: string): void;
  openClient(): Promise<Client>;
  /** API token administration, locally or (with `--server`) over the API as an admin. */
  openTokenAdmin(): Promise<TokenAdmin>;
  /** Webhook administration, locally or (with `--server`) over the API as an admin. */
  openWebhookAdmin(): Promise<WebhookAdmin>;
  /** Passkey administration, locally or (with `--server`) over the API. */
  openPasskeyAdmin(): Promise<PasskeyAdmin>;
  /** The service layer's dependencies over the local home: for local-only commands (key rotation). */
  openDeps(): Promise<ServiceDeps>;
  /** The command about to run: its options complete the global ones. */
  setAction(cmd: Command): void;
  exitCode: number;
}

export function createContext(program: Command, io: Io): CliContext {
  let cached: CliConfig | undefined;
  let action: Command | undefined;
  const closers: (() => Promise<void>)[] = [];
  const remote = (url: string): HttpOptions => {
    const { token, user } = ctx.config();
    // The token says who calls; a name given too (`--as`, TOLLGATE_USER) must be the same person.
    return { url, ...(token ? { token } : {}), ...(user ? { as: user } : {}) };
  };
  const ctx: CliContext & { closeAll(): Promise<void> } = {
    io,
    exitCode: 0,
    setAction(cmd: Command) {
      action = cmd;
      cached = undefined;
    },
    config() {
      if (!cached) {
        // Global options from before the command, overridden by the same ones written after it; a
        // command's own flag that shares a global's name (a boolean `--server`) is not the global.
        const own = (action?.opts() ?? {}) as Record<string, unknown>;
        const flags: GlobalFlags = { ...program.opts<GlobalFlags>() };
        for (const key of ['home', 'database', 'server', 'as'] as const) if (typeof own[key] === 'string') flags[key] = own[key] as string;
        if (own.json === true) flags.json = true;
        cached = loadConfig(io.env, flags, io.cwd);
      }
      return cached;
    },
    emit(json, human) {
      if (ctx.config().json) io.stdout(JSON.stringify(json, null, 2) + '\n');
      else {
        const text = human();
        io.stdout((Array.isArray(text) ? text.join('\n') : text) + '\n');
      }
    },
    note(text) {
      if (!ctx.config().json) io.stderr(text + '\n');
    },
    async openDeps() {
      const config = ctx.config();
      if (config.server) {
        throw tollgateError('TG_USAGE', 'this command works on the local home only; run it without --server (and TOLLGATE_SERVER) where the home is');
      }
      if (!fs.existsSync(config.home)) {
        throw tollgateError('TG_NOT_INITIALIZED', `no Tollgate home at ${config.home}`);
      }
      const serverKey = loadServerKey(config.home);
      // The home holds the server key either way; the database is its SQLite file or a PostgreSQL URL.
      const { openStore } = await import('../store/open.js');
      const store = await openStore(config.databaseUrl);
      closers.push(() => store.close());
      return {
        store,
        serverKey,
        origin: loadOrigin(config.home),
        previousKeys: loadPreviousServerKeys(config.home),
        now: () => (config.now ? new Date(config.now.getTime()) : new Date()),
        allowPrivateWebhooks: config.allowPrivateWebhooks,
        handoff: { env: config.handoffEnv, cwd: config.cwd },
      };
    },
    // With --server, each of these is the server's service layer acting as the token's user (`--as` does not apply).
    async openClient() {
      const config = ctx.config();
      if (config.server) {
        const { createHttpClient } = await import('../client/http-client.js');
        return createHttpClient(remote(config.server));
      }
      const { createLocalClient } = await import('../client/local-client.js');
      return createLocalClient(await ctx.openDeps(), config.user);
    },
    async openTokenAdmin() {
      const config = ctx.config();
      const admin = await import('../client/admin.js');
      return config.server ? admin.createHttpTokenAdmin(remote(config.server)) : admin.createLocalTokenAdmin(await ctx.openDeps(), config.user);
    },
    async openWebhookAdmin() {
      const config = ctx.config();
      const admin = await import('../client/admin.js');
      return config.server ? admin.createHttpWebhookAdmin(remote(config.server)) : admin.createLocalWebhookAdmin(await ctx.openDeps(), config.user);
    },
    async openPasskeyAdmin() {
      const config = ctx.config();
      const admin = await import('../client/admin.js');
      return config.server ? admin.createHttpPasskeyAdmin(remote(config.server)) : admin.createLocalPasskeyAdmin(await ctx.openDeps(), config.user);
    },
    async closeAll() {
      await Promise.all(closers.splice(0).map((close) => close()));
    },
  };
  return ctx;
}
