/**
 * The CSV parser's worker path, which vitest alone never reaches: a worker thread cannot load
 * TypeScript, so these tests run the built worker entry (`dist/`, or a fresh build when dist is
 * missing or older than the sources: test/fixtures/validators/built.ts) and hold its answers against
 * the inline parser's on the same files, and against SciPy's on the shared fixtures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtSrc, type BuiltSrc } from '../../../test/fixtures/validators/built.js';
import { testContext } from '../../../test/fixtures/validators/context.js';
import { columnsOf, DRIFT_EXPECTED, DRIFT_FIXTURES, expectMatchesScipy } from '../../../test/fixtures/validators/drift-scipy.js';
import { parsePlainCsv, Unsupported, type ParseJob } from './csv-parser.js';
import { startParser, WORKER_MIN_BYTES } from './csv-parser-start.js';
import type { ReadAs } from './file-data.js';
import { driftArgsSchema, runDrift } from './index.js';

let built: BuiltSrc;
/** The built worker entry. */
let workerUrl: URL;
let tmp: string;

beforeAll(() => {
  built = builtSrc();
  workerUrl = pathToFileURL(path.join(built.dir, 'validators/drift/csv-worker.js'));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-csv-worker-'));
}, 300_000);
afterAll(() => {
  built?.remove();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

/** A parse job over `file` (comma-separated, header `names`) reading the columns listed. */
function jobFor(file: string, names: string[], read: Record<string, ReadAs>): ParseJob {
  const plan = Object.entries(read).map(([name, readAs]) => ({ name, index: names.indexOf(name), readAs }));
  return { file, delimiter: ','.charCodeAt(0), names, plan };
}

const noSignal = () => new AbortController().signal;

describe('the built worker entry parses as the inline parser does', () => {
  it('numbers, integers, text, numbers read as text, nulls, a skipped column, CRLF and no final newline', async () => {
    let seed = 5;
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const lines = Array.from({ length: 20_000 }, (_, i) => {
      const a = i % 41 === 0 ? '' : i % 7 === 0 ? String(rnd() * 1e12) : i % 13 === 0 ? (rnd() * 1e-5).toExponential(2) : (rnd() * 100 - 50).toFixed(i % 3);
      const b = i % 53 === 0 ? '' : String(Math.floor(rnd() * 2e6) - 1e6);
      const c = i % 59 === 0 ? '' : ['web', 'store', 'app', 'phone'][Math.floor(rnd() * 4)];
      const d = String(Math.floor(rnd() * 90) + 10);
      const skipped = `note ${i}`;
      return `${a},${b},${c},${d},${skipped}`;
    });
    const names = ['a', 'b', 'c', 'd', 'skipped'];
    const file = write('mixed.csv', [names.join(','), ...lines].join('\r\n'));
    const job = jobFor(file, names, { a: 'number', b: 'integer', c: 'text', d: 'number-as-text' });

    const parser = startParser(file, noSignal(), { workerUrl, workerMinBytes: 0 });
    expect(parser.thread).toBe('worker');
    const inWorker = await parser.run(job);
    const inline = parsePlainCsv(job);
    expect(inWorker.rows).toBe(20_000);
    expect(inWorker.columns.map((c) => c.nulls)).toEqual([Math.ceil(20_000 / 41), Math.ceil(20_000 / 53), Math.ceil(20_000 / 59), 0]);
    expect(inWorker).toEqual(inline);
  });

  it('tells the rows read as it goes, block by block, before its answer (the progress `validate` shows)', async () => {
    // About 12 MiB of short lines: three 4 MiB blocks and a tail.
    const lines = Array.from({ length: 1_500_000 }, (_, i) => `${i % 1000},${'xyz'[i % 3]}`);
    const file = write('long.csv', `n,k\n${lines.join('\n')}\n`);
    const job = jobFor(file, ['n', 'k'], { n: 'integer', k: 'text' });
    const seen: number[] = [];
    const parser = startParser(file, noSignal(), { workerUrl, workerMinBytes: 0 });
    const parsed = await parser.run(job, (rows) => seen.push(rows));
    expect(parsed.rows).toBe(1_500_000);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[0]).toBeLessThan(1_500_000);
    expect(seen.at(-1)).toBe(1_500_000);
    // Inline, the same counts, from the same blocks.
    const inline: number[] = [];
    parsePlainCsv(job, undefined, (rows) => inline.push(rows));
    expect(inline).toEqual(seen);
  });

  it('drift reports the rows read in both files while its workers parse them', async () => {
    const lines = (shift: number) => Array.from({ length: 1_200_000 }, (_, i) => `${(i * 7 + shift) % 1000},${'pqrs'[i % 4]}`).join('\n');
    write('reference.csv', `amount,kind\n${lines(0)}\n`);
    write('current.csv', `amount,kind\n${lines(3)}\n`);
    const ctx = testContext(tmp);
    const args = driftArgsSchema.parse({ reference: 'reference.csv', current: 'current.csv' });
    const outcome = await runDrift(args, ctx, { csvWorker: { workerUrl, workerMinBytes: 0 } });
    expect(outcome.status, outcome.summary).not.toBe('errored');
    const counts = ctx.reports.filter((r) => r.rows !== undefined && r.message?.startsWith('reading')).map((r) => r.rows!);
    // Several reports while reading, rising, up to both files whole.
    expect(counts.length).toBeGreaterThanOrEqual(4);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[0]).toBeLessThan(2_400_000);
    expect(counts.at(-1)).toBe(2_400_000);
  });

  it('a file it declines comes back as Unsupported (DuckDB reads it instead), across the thread', async () => {
    const file = write('quoted.csv', 'x,y\n1,a\n2,"b"\n');
    const parser = startParser(file, noSignal(), { workerUrl, workerMinBytes: 0 });
    expect(parser.thread).toBe('worker');
    const failure = await parser.run(jobFor(file, ['x', 'y'], { x: 'integer', y: 'text' })).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Unsupported);
    expect((failure as Error).message).toBe('quoted field');
  });
});

describe('where a file is parsed', () => {
  it('built: in a worker from WORKER_MIN_BYTES up, inline below; the TypeScript source: always inline', async () => {
    const starter = (await import(pathToFileURL(path.join(built.dir, 'validators/drift/csv-parser-start.js')).href)) as typeof import('./csv-parser-start.js');
    expect(starter.WORKER_MIN_BYTES).toBe(8 << 20);
    // Four-byte lines after a four-byte header: sizes exactly at the threshold and one line below.
    const body = (lines: number) => Array.from({ length: lines }, (_, i) => `${i % 10},${'abc'[i % 3]}\n`).join('');
    const big = write('big.csv', `x,k\n${body(WORKER_MIN_BYTES / 4 - 1)}`);
    const small = write('small.csv', `x,k\n${body(WORKER_MIN_BYTES / 4 - 2)}`);
    expect(fs.statSync(big).size).toBe(WORKER_MIN_BYTES);
    expect(fs.statSync(small).size).toBe(WORKER_MIN_BYTES - 4);

    const job = jobFor(big, ['x', 'k'], { x: 'integer', k: 'text' });
    const parser = starter.startParser(big, noSignal());
    expect(parser.thread).toBe('worker');
    expect(await parser.run(job)).toEqual(parsePlainCsv(job));

    const below = starter.startParser(small, noSignal());
    expect(below.thread).toBe('inline');
    below.stop();
    const source = startParser(big, noSignal());
    expect(source.thread).toBe('inline');
    source.stop();
  });
});

describe('drift with its CSV parser in worker threads agrees with SciPy on the shared fixtures', () => {
  for (const name of Object.keys(DRIFT_EXPECTED.cases)) {
    it(name, async () => {
      const args = driftArgsSchema.parse({ reference: `${name}/reference.csv`, current: `${name}/current.csv` });
      const inWorkers = await runDrift(args, testContext(DRIFT_FIXTURES), { csvWorker: { workerUrl, workerMinBytes: 0 } });
      expectMatchesScipy(inWorkers, name);
      expect(inWorkers.details).toMatchObject({ engine: { reference: 'csv-parser', current: 'csv-parser' } });
      const inline = await runDrift(args, testContext(DRIFT_FIXTURES));
      expect(columnsOf(inWorkers)).toEqual(columnsOf(inline));
      expect(inWorkers.inputs).toEqual(inline.inputs);
    });
  }

  it('a worker that cannot start leaves the result errored: it does not quietly parse inline', async () => {
    const args = driftArgsSchema.parse({ reference: 'small/reference.csv', current: 'small/current.csv' });
    const missing = pathToFileURL(path.join(tmp, 'no-such-worker.js'));
    const o = await runDrift(args, testContext(DRIFT_FIXTURES), { csvWorker: { workerUrl: missing, workerMinBytes: 0 } });
    expect(o.status).toBe('errored');
    expect(o.summary).toMatch(/^drift could not run: .*no-such-worker\.js/);
  });
});

describe('the built validator on files big enough for its workers', () => {
  it('gives the same figures from the CSV parser (in worker threads) as from DuckDB', async () => {
    const { driftArgsSchema: schema, runDrift: run } = (await import(pathToFileURL(path.join(built.dir, 'validators/drift/index.js')).href)) as typeof import('./index.js');
    let seed = 9;
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const rows = (shift: number) =>
      Array.from({ length: 480_000 }, (_, i) => `${(rnd() * 100 + shift).toFixed(2)},${i % 97 === 0 ? '' : (rnd() * 2 - 1 + shift).toFixed(6)},${Math.floor(rnd() * 9)},${['a', 'b', 'c'][i % 3]}`);
    const ref = write('big-ref.csv', ['x,y,k,cat', ...rows(0)].join('\n') + '\n');
    const cur = write('big-cur.csv', ['x,y,k,cat', ...rows(0.01)].join('\n') + '\n');
    expect(fs.statSync(ref).size).toBeGreaterThan(WORKER_MIN_BYTES);
    const args = schema.parse({ reference: ref, current: cur });
    const fast = await run(args, testContext(tmp));
    const duck = await run(args, testContext(tmp), { engine: 'duckdb' });
    expect(fast.details).toMatchObject({ engine: { reference: 'csv-parser', current: 'csv-parser' } });
    expect(fast.measurements).toEqual(duck.measurements);
    expect(fast.inputs).toEqual(duck.inputs);
  });
});
