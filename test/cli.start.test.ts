/**
 * What a command loads (issue 9: the CLI's start was almost all module loading, of code most commands
 * do not need). Not timed: the machine is shared and noisy, and bench/cli measures time. These tests
 * fail when the structure regresses: a local `status` that loads the server, PostgreSQL, DuckDB, the
 * validators or the report again; `--version` or `--help` that load the store; a root help that no
 * longer lists every command. They run the real binary (dist/bundle/, `npm run build` first) with a
 * loader hook that lists every module the process loaded.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/main.js';
import { BIN, createProject, removeProjects, type Project } from './helpers/cli.js';

const REPO = path.resolve(import.meta.dirname, '..');
const BUNDLE = path.join(REPO, 'dist/bundle');
const TRACE = pathToFileURL(path.join(import.meta.dirname, 'helpers/trace-modules.mjs')).href;
const REL = 'fraud-detector@2.4.0';

let p: Project;
let runs = 0;

beforeAll(() => {
  p = createProject();
  const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => removeProjects());

interface Loaded {
  readonly code: number;
  readonly stdout: string;
  /** Tollgate's modules (`dist/cli/main.js`, …) and the packages' (`node_modules/kysely/…`), bundled or not. */
  readonly modules: readonly string[];
  /** The packages any of them belong to. */
  readonly packages: ReadonlySet<string>;
}

/** The modules a chunk of the bundle holds, by its file name (scripts/bundle-cli.mjs writes the list). */
function chunkModules(): Record<string, string[]> {
  const file = path.join(BUNDLE, 'chunks.json');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string[]>;
}

function packageOf(module: string): string | undefined {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(module);
  return m?.[1];
}

/** Runs `tollgate ARGS` in the project and lists what it loaded. */
function load(args: readonly string[]): Loaded {
  const out = path.join(p.dir, `modules-${++runs}.txt`);
  const env: NodeJS.ProcessEnv = { ...process.env, TOLLGATE_HOME: p.home, TOLLGATE_TRACE_MODULES: out };
  for (const k of ['TOLLGATE_USER', 'TOLLGATE_DATABASE_URL', 'TOLLGATE_SERVER', 'TOLLGATE_TOKEN', 'TOLLGATE_DEBUG']) delete env[k];
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], { cwd: p.dir, env, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  const chunks = chunkModules();
  const modules = new Set<string>();
  for (const url of fs.readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('file:'))) {
    const file = fileURLToPath(url);
    if (path.dirname(file) === BUNDLE) {
      const held = chunks[path.basename(file)];
      if (!held) throw new Error(`${file} is not in ${BUNDLE}/chunks.json: rebuild with \`npm run build\``);
      for (const m of held) modules.add(m);
    } else {
      const i = file.lastIndexOf('/node_modules/');
      modules.add(i >= 0 ? file.slice(i + 1) : path.relative(REPO, file));
    }
  }
  const list = [...modules].sort();
  return { code: r.status ?? -1, stdout: r.stdout, modules: list, packages: new Set(list.map(packageOf).filter((x) => x !== undefined)) };
}

/** Modules among `modules` that match any of `patterns`. */
const matching = (modules: readonly string[], patterns: readonly RegExp[]) => modules.filter((m) => patterns.some((re) => re.test(m)));

/**
 * What a local read needs none of: the server, PostgreSQL, DuckDB, the validators, the report, the
 * HTTP client, the policy and manifest parsers (zod, YAML) and the attestation builder.
 */
const NOT_FOR_A_LOCAL_READ = {
  packages: ['fastify', 'pg', '@duckdb/node-api', 'jose', 'prom-client', 'fast-xml-parser', 'autocannon', 'zod', 'yaml'],
  modules: [
    /^dist\/domain\/(policy|manifest|yaml-source)\.js$/,
    /^dist\/audit\/attestation\.js$/,
    /^dist\/server\//,
    /^dist\/validators\//,
    /^dist\/report\//,
    /^dist\/stats\//,
    /^dist\/client\/(http-client|http-transport|admin)\.js$/,
    /^dist\/store\/postgres-store\.js$/,
  ],
};

/** What `--version` and `--help` need none of: the store, the use cases, the domain's parsers, any command. */
const NOT_FOR_HELP = {
  packages: ['kysely', 'zod', 'yaml', '@marcbachmann/cel-js', 'better-sqlite3', ...NOT_FOR_A_LOCAL_READ.packages],
  modules: [/^dist\/(store|service|client|audit|validators|server|report)\//, /^dist\/cli\/commands\//, /^dist\/domain\/(policy|manifest|evaluate|cel)\.js$/],
};

describe('what a command loads', () => {
  it.each([
    ['status', ['status', REL, '--to', 'staging', '--json'], 3, 'dist/cli/commands/status.js'],
    ['release list', ['release', 'list', '--json'], 0, 'dist/cli/commands/release.js'],
  ] as const)('a local %s loads no server, PostgreSQL, DuckDB, validator, report or HTTP client', (_name, args, code, command) => {
    const run = load(args);
    expect(run.code, run.stdout).toBe(code);
    // The trace sees what the run needs (so the checks below cannot pass on an empty list) …
    expect(run.modules).toEqual(expect.arrayContaining([command, 'dist/client/local-client.js', 'dist/store/sqlite-store.js']));
    expect([...run.packages]).toEqual(expect.arrayContaining(['better-sqlite3', 'kysely']));
    // … and nothing it does not.
    expect([...run.packages].filter((pkg) => NOT_FOR_A_LOCAL_READ.packages.includes(pkg))).toEqual([]);
    expect(matching(run.modules, NOT_FOR_A_LOCAL_READ.modules)).toEqual([]);
    // Only the command being run is loaded, not the other commands' modules.
    expect(matching(run.modules, [/^dist\/cli\/commands\//])).toEqual([command]);
  });

  it.each([['--version'], ['--help'], ['help']])('%s loads no command, store, use case or parser', (arg) => {
    const run = load([arg]);
    expect(run.code).toBe(0);
    expect(run.modules).toEqual(expect.arrayContaining(['dist/cli/main.js', 'node_modules/commander/index.js']));
    expect([...run.packages].filter((pkg) => NOT_FOR_HELP.packages.includes(pkg))).toEqual([]);
    expect(matching(run.modules, NOT_FOR_HELP.modules)).toEqual([]);
  });

  it('help for one command loads that command and no other', () => {
    const run = load(['help', 'status']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--to <stage>');
    expect(matching(run.modules, [/^dist\/cli\/commands\//])).toEqual(['dist/cli/commands/status.js']);
    expect([...run.packages].filter((pkg) => NOT_FOR_HELP.packages.includes(pkg))).toEqual([]);
  });

  it('a remote status loads the HTTP client, not the store', () => {
    // Nothing listens on port 9: the run fails, after loading what a remote status loads.
    const run = load(['--server', 'http://127.0.0.1:9', 'status', REL, '--to', 'staging']);
    expect(run.code).not.toBe(0);
    expect(run.modules).toContain('dist/client/http-client.js');
    expect([...run.packages].filter((pkg) => ['kysely', 'better-sqlite3', 'pg', 'fastify'].includes(pkg))).toEqual([]);
    expect(matching(run.modules, [/^dist\/store\//, /^dist\/client\/local-client\.js$/])).toEqual([]);
  });
});

describe('the root help', () => {
  it('lists every command, as the command table has it', () => {
    const r = p.run(['--help']);
    expect(r.code).toBe(0);
    const listed = r.stdout
      .split('Commands:\n')[1]!
      .split('\n')
      .filter((line) => /^ {2}\S/.test(line))
      .map((line) => line.trim().split(' ')[0]);
    expect(listed).toEqual([...COMMANDS.map((c) => c.name), 'help']);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.term} `);
  });
});
