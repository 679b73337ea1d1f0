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

const EXAMPLE_ROLES: Readonly<Record<string, string>> = { alice: 'ml-engineer', bob: 'ml-engineer', carol: 'security', dave: 'release-manager, admin', ci: 'validator' };

/**
 * The roster of the init-generated policy (the example users and their real public keys) as YAML
 * lines, with `roles` added or changed per user; a user the example does not have gets a key pair
 * made for them (`keys create`), once per project.
 */
export function rosterYaml(project: Project, roles: Record<string, string> = {}): string {
  const users = project.init?.users as Record<string, string> | undefined;
  if (!users) throw new Error('the project was not initialized with init --json');
  const all = { ...EXAMPLE_ROLES, ...roles };
  for (const u of Object.keys(all)) {
    if (users[u] !== undefined) continue;
    const k = project.run(['keys', 'create', u, '--json']);
    if (k.code !== 0) throw new Error(`keys create ${u} failed: ${k.stdout}${k.stderr}`);
    users[u] = k.json().publicKey;
  }
  return ['roster:', ...Object.entries(all).map(([u, role]) => `  ${u}: { roles: [${role}], key: "${users[u]}" }`)].join('\n');
}

/** `fraud-detector@1.N.0`: the releases `opsProject` registers. */
export const V = (n: number): string => `fraud-detector@1.${n}.0`;

/**
 * A project on a policy `ops` of the example roster (with `roles` added) and `rest` (its `stages:`
 * and `gates:` YAML), applied by dave, with releases 1.1.0 … 1.N.0 of the example manifest
 * registered by alice (the owner).
 */
export function opsProject(rest: string, releases: number, roles?: Record<string, string>): Project {
  const p = createProject();
  p.write('ops.yaml', `apiVersion: tollgate/v1\nkind: Policy\nname: ops\n${rosterYaml(p, roles)}\n${rest}`);
  const a = p.run(['policy', 'apply', 'ops.yaml', '--as', 'dave']);
  if (a.code !== 0) throw new Error(`policy apply failed: ${a.stdout}${a.stderr}`);
  const manifest = p.read('release.yaml');
  for (let n = 1; n <= releases; n++) {
    p.write(`r${n}.yaml`, manifest.replace('version: 2.4.0', `version: 1.${n}.0`));
    const r = p.run(['release', 'create', `r${n}.yaml`, '--as', 'alice']);
    if (r.code !== 0) throw new Error(`release create failed: ${r.stdout}${r.stderr}`);
  }
  return p;
}

/** Runs commands of `p` with `--json` at the fixed time `now` (TOLLGATE_NOW). */
export function at(p: Project, now: string): (args: string[]) => RunResult {
  return (args) => p.run([...args, '--json'], { env: { TOLLGATE_NOW: now } });
}

/** The requirement `gateId/id` of a decision's JSON, or a failure naming what the decision has. */
export function requirement(d: any, gateId: string, id: string): any {
  const r = d.gates.find((g: any) => g.id === gateId)?.requirements.find((x: any) => x.id === id);
  if (!r) throw new Error(`no requirement ${gateId}/${id} in ${JSON.stringify(d.gates)}`);
  return r;
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
