/**
 * End-to-end helper: runs the real `bin/tollgate.js` as a child process in a fresh temporary folder,
 * with its own TOLLGATE_HOME and no TOLLGATE_USER inherited from the environment. Assumes
 * `npm run build` has been done (npm test runs it as pretest).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/tollgate.js');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON; throws with the whole output when it is not JSON. */
  json(): any;
}

export interface RunOptions {
  /** Extra environment variables (undefined removes one). */
  readonly env?: Record<string, string | undefined>;
  /** Working directory, relative to the project folder. */
  readonly cwd?: string;
}

export interface Project {
  /** The project folder (cwd of every run). */
  readonly dir: string;
  /** The Tollgate home folder (TOLLGATE_HOME). */
  readonly home: string;
  /** The SQLite file in the home folder. */
  readonly dbFile: string;
  /** What `init --json` printed, when the project was initialized. */
  readonly init?: any;
  run(args: readonly string[], opts?: RunOptions): RunResult;
  /** Writes a file in the project folder (folders created as needed); returns its absolute path. */
  write(rel: string, content: string): string;
  read(rel: string): string;
  /** A copy of the whole folder (home and database included) in a new temporary folder. */
  clone(): Project;
  /** Opens the database directly; close it before the next run. */
  openDb(): BetterSqlite3.Database;
}

export interface CreateProjectOptions {
  /** Run `tollgate init` (default true). */
  readonly init?: boolean;
}

function baseEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_HOME: home };
  for (const k of ['TOLLGATE_USER', 'TOLLGATE_DATABASE_URL', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DEBUG']) delete env[k];
  return env;
}

export function runIn(dir: string, home: string, args: readonly string[], opts: RunOptions = {}): RunResult {
  const env = baseEnv(home);
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ? path.resolve(dir, opts.cwd) : dir,
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  const stdout = r.stdout ?? '';
  const stderr = r.stderr ?? '';
  return {
    code: r.status ?? -1,
    stdout,
    stderr,
    json() {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`tollgate ${args.join(' ')}: stdout is not JSON (exit ${r.status})\nstdout: ${stdout}\nstderr: ${stderr}`);
      }
    },
  };
}

/**
 * Like `runIn`, but without blocking this process while the command runs: for tests that keep a
 * server child running meanwhile (whose output must keep draining), or run commands side by side.
 */
export function runInAsync(dir: string, home: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const env = baseEnv(home);
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ? path.resolve(dir, opts.cwd) : dir, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`tollgate ${args.join(' ')}: stdout is not JSON (exit ${code})\nstdout: ${stdout}\nstderr: ${stderr}`);
          }
        },
      });
    });
  });
}

const created: string[] = [];

/** Removes every folder this helper created in this process (call from afterAll). */
export function removeProjects(): void {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

function projectAt(dir: string, init?: any): Project {
  const home = path.join(dir, '.tollgate');
  const project: Project = {
    dir,
    home,
    dbFile: path.join(home, 'tollgate.db'),
    init,
    run: (args, opts) => runIn(dir, home, args, opts),
    write(rel, content) {
      const file = path.join(dir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      return file;
    },
    read: (rel) => fs.readFileSync(path.join(dir, rel), 'utf8'),
    clone() {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-'));
      created.push(copy);
      fs.cpSync(dir, copy, { recursive: true });
      return projectAt(copy, init);
    },
    openDb: () => new BetterSqlite3(path.join(home, 'tollgate.db'), { fileMustExist: true }),
  };
  return project;
}

/** A fresh temporary project folder; runs `tollgate init --json` unless told not to. */
export function createProject(opts: CreateProjectOptions = {}): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-e2e-'));
  created.push(dir);
  const bare = projectAt(dir);
  if (opts.init === false) return bare;
  const r = bare.run(['init', '--json']);
  if (r.code !== 0) throw new Error(`tollgate init failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  return projectAt(dir, r.json());
}

/** The roster of the init-generated policy (the example users and their real public keys) as YAML lines. */
export function rosterYaml(project: Project): string {
  const users = project.init?.users as Record<string, string> | undefined;
  if (!users) throw new Error('the project was not initialized with init --json');
  const roles: Record<string, string> = { alice: 'ml-engineer', bob: 'ml-engineer', carol: 'security', dave: 'release-manager, admin', ci: 'validator' };
  return [
    'roster:',
    ...Object.entries(roles).map(([u, role]) => `  ${u}: { roles: [${role}], key: "${users[u]}" }`),
  ].join('\n');
}

/** Every table of the database: row count and a hash of all rows, to prove that nothing changed. */
export function snapshotDb(project: Project): Record<string, { count: number; rows: string }> {
  const db = project.openDb();
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    const out: Record<string, { count: number; rows: string }> = {};
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY rowid`).all();
      const text = JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v));
      out[name] = { count: rows.length, rows: text };
    }
    return out;
  } finally {
    db.close();
  }
}
