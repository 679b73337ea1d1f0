import fs from 'node:fs';
import type { Command } from 'commander';
import type { Client } from '../client/client.js';
import { createLocalClient } from '../client/local-client.js';
import { tollgateError } from '../domain/errors.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { loadConfig, type CliConfig, type GlobalFlags } from './config.js';
import { createFileProbe } from './files.js';
import { loadServerKey } from './home.js';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** A person at a terminal (stderr is a TTY and not CI): progress lines are shown. */
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
  /** A transient progress line, rewritten in place; only for a person at a terminal. */
  progress(text: string): void;
  openClient(): Promise<Client>;
  exitCode: number;
}

export function createContext(program: Command, io: Io): CliContext {
  let cached: CliConfig | undefined;
  const clients: Client[] = [];
  const ctx: CliContext & { closeAll(): Promise<void> } = {
    io,
    exitCode: 0,
    config() {
      cached ??= loadConfig(io.env, program.opts<GlobalFlags>(), io.cwd);
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
    progress(text) {
      if (io.interactive && !ctx.config().json) io.stderr(`\r\x1b[2K${text}`);
    },
    async openClient() {
      const config = ctx.config();
      if (config.server) {
        throw tollgateError('TG_USAGE', 'remote mode (--server) is not available in this version; run without --server to use the local home');
      }
      if (/^postgres(ql)?:\/\//.test(config.databaseUrl)) {
        throw tollgateError('TG_USAGE', 'PostgreSQL databases are not supported in this version; use the SQLite file in the home folder');
      }
      if (!fs.existsSync(config.home)) {
        throw tollgateError('TG_NOT_INITIALIZED', `no Tollgate home at ${config.home}`);
      }
      const serverKey = loadServerKey(config.home);
      const store = await createSqliteStore(config.databaseUrl);
      const client = createLocalClient({ store, serverKey, now: () => new Date() }, config.user, { probe: createFileProbe(config.cwd) });
      clients.push(client);
      return client;
    },
    async closeAll() {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    },
  };
  return ctx;
}
