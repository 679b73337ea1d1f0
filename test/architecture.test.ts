import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Dependencies point inward (STYLE.md rule 1): the pure domain imports nothing from the edges.
const SRC = path.resolve(import.meta.dirname, '../src');

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

function layerOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

const FORBIDDEN: Record<string, string[]> = {
  domain: ['store', 'service', 'server', 'cli', 'client', 'audit', 'validators'],
  validators: ['store', 'service', 'server', 'cli', 'client', 'audit'],
  audit: ['store', 'service', 'server', 'cli', 'client'],
  store: ['service', 'server', 'cli', 'client'],
  service: ['server', 'cli', 'client'],
  client: ['cli', 'server'],
  // The two edges: the server runs the service layer (never the CLI's client), and the CLI reaches
  // the server only through a client (HTTP), except to start one.
  server: ['cli', 'client'],
  cli: ['server'],
  report: ['store', 'service', 'server', 'cli', 'client', 'validators', 'audit'],
  webhooks: ['service', 'server', 'cli', 'client'],
  // Hand-offs to deployment do I/O (git, programs, HTTP) for the service, which records their outcomes.
  handoff: ['store', 'service', 'server', 'cli', 'client', 'audit'],
  // The JSON Schemas are made from the parsers' zod schemas (domain, validators, the server's OIDC
  // configuration), and only the CLI's init reads its file names.
  'json-schema': ['store', 'service', 'cli', 'client'],
};

/** Modules that do I/O (with or without `node:`; a subpath counts as its module). */
const STATS_IO = ['fs', 'child_process', 'net', 'http', 'https', 'worker_threads', '@duckdb/node-api', 'duckdb', 'better-sqlite3', 'kysely', 'pg'];

/** What a file in stats/ may not import: any other layer of src/, or an I/O module. */
function statsProblems(file: string, specs: readonly string[]): string[] {
  const where = path.relative(SRC, file).split(path.sep).join('/');
  return specs.flatMap((spec) => {
    if (spec.startsWith('.')) {
      const target = layerOf(path.resolve(path.dirname(file), spec));
      return target === 'stats' ? [] : [`${where} imports ${target}/`];
    }
    const bare = spec.replace(/^node:/, '');
    return STATS_IO.some((m) => bare === m || bare.startsWith(`${m}/`)) ? [`${where} imports ${spec}`] : [];
  });
}

/** Files that may import a layer their own layer may not, and which: `tollgate serve` starts the server. */
const EXCEPTIONS: Record<string, string[]> = {
  'cli/commands/serve.ts': ['server'],
};

/** The forbidden imports of one file, as `file imports layer/` lines. */
function violations(file: string, imports: readonly string[]): string[] {
  const name = path.relative(SRC, file).split(path.sep).join('/');
  const outer = (FORBIDDEN[layerOf(file)] ?? []).filter((layer) => !(EXCEPTIONS[name] ?? []).includes(layer));
  return imports
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => layerOf(path.resolve(path.dirname(file), spec)))
    .filter((target) => outer.includes(target))
    .map((target) => `${name} imports ${target}/`);
}

describe('architecture', () => {
  const files = filesUnder(SRC).filter((f) => !f.endsWith('.test.ts'));

  it('finds the source files it checks', () => {
    expect(files.filter((f) => layerOf(f) === 'domain').length).toBeGreaterThan(5);
  });

  it.each(Object.keys(FORBIDDEN))('%s imports none of its outer layers', (layer) => {
    const bad = files.filter((f) => layerOf(f) === layer).flatMap((f) => violations(f, importsOf(f)));
    expect(bad).toEqual([]);
  });

  it('domain uses no I/O modules', () => {
    const io = ['node:fs', 'fs', 'node:fs/promises', 'node:child_process', 'node:net', 'node:http', 'better-sqlite3', 'kysely'];
    const bad = files
      .filter((f) => layerOf(f) === 'domain')
      .flatMap((f) => importsOf(f).filter((spec) => io.includes(spec)).map((spec) => `${path.relative(SRC, f)} imports ${spec}`));
    expect(bad).toEqual([]);
  });

  // stats/ is SciPy's algorithms ported: pure numerics any layer may use (validators do). It imports
  // no other part of Tollgate and does no I/O, so that it can be checked against SciPy in isolation.
  it('stats imports no other layer and uses no I/O modules', () => {
    const stats = files.filter((f) => layerOf(f) === 'stats');
    expect(stats.length).toBeGreaterThan(5);
    expect(stats.flatMap((f) => statsProblems(f, importsOf(f)))).toEqual([]);
  });

  it('validators may import stats (drift does)', () => {
    const drift = files.filter((f) => layerOf(f) === 'validators' && f.includes(`${path.sep}drift`));
    expect(drift.flatMap((f) => importsOf(f).map((spec) => (spec.startsWith('.') ? layerOf(path.resolve(path.dirname(f), spec)) : spec)))).toContain('stats');
    expect(FORBIDDEN.validators).not.toContain('stats');
  });

  it('would catch a forbidden import (the check itself works)', () => {
    const fake = path.join(SRC, 'domain', 'fake.ts');
    expect(layerOf(path.resolve(path.dirname(fake), '../store/store.js'))).toBe('store');
    expect(importsOf(path.join(SRC, 'service', 'promote.ts'))).toContain('../domain/evaluate.js');
    const fakeStats = path.join(SRC, 'stats', 'fake.ts');
    expect(statsProblems(fakeStats, ['./psi.js', '../validators/duckdb.js', '../domain/digest.js', 'node:fs', 'fs/promises', 'node:worker_threads', '@duckdb/node-api', 'pg', 'kysely/helpers/postgres'])).toEqual([
      'stats/fake.ts imports validators/',
      'stats/fake.ts imports domain/',
      'stats/fake.ts imports node:fs',
      'stats/fake.ts imports fs/promises',
      'stats/fake.ts imports node:worker_threads',
      'stats/fake.ts imports @duckdb/node-api',
      'stats/fake.ts imports pg',
      'stats/fake.ts imports kysely/helpers/postgres',
    ]);
    expect(importsOf(path.join(SRC, 'server', 'route.ts'))).toContain('../service/use-cases.js');
  });

  // Imports the code had before the admin verbs went behind the client: each must be caught.
  it.each([
    ['domain/fake.ts', '../store/store.js', 'store'],
    ['cli/commands/token.ts', '../../server/tokens.js', 'server'],
    ['cli/context.ts', '../server/app.js', 'server'],
    ['server/app.ts', '../client/local-client.js', 'client'],
    ['server/route.ts', '../client/client.js', 'client'],
    ['server/tokens.ts', '../client/http-client.js', 'client'],
    ['server/routes/tokens.ts', '../../cli/context.js', 'cli'],
  ])('would catch %s importing %s', (file, spec, layer) => {
    expect(violations(path.join(SRC, file), [spec])).toEqual([`${file} imports ${layer}/`]);
  });

  it('lets cli/commands/serve.ts, and no other command, import the server', () => {
    expect(violations(path.join(SRC, 'cli/commands/serve.ts'), ['../../server/app.js', '../../server/oidc.js'])).toEqual([]);
    expect(violations(path.join(SRC, 'cli/commands/verify.ts'), ['../../server/app.js'])).toEqual(['cli/commands/verify.ts imports server/']);
  });
});
