import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext } from '../../../test/fixtures/validators/context.js';
import { columnsOf, DRIFT_EXPECTED as expected, DRIFT_FIXTURES as FIXTURES, expectMatchesScipy } from '../../../test/fixtures/validators/drift-scipy.js';
import { driftArgsSchema, driftValidator, formatNumber, runDrift, type DriftRunOptions } from './index.js';
import { quoteLiteral, withDuckDb } from '../duckdb.js';
import { digestFile } from '../inputs.js';
import type { ValidatorOutcome } from '../validator.js';

function run(w: Record<string, unknown>, options?: DriftRunOptions, baseDir = FIXTURES): Promise<ValidatorOutcome> {
  const args = driftArgsSchema.parse(w);
  return options ? runDrift(args, testContext(baseDir), options) : driftValidator.run(args, testContext(baseDir));
}

describe('drift on the fixtures agrees with SciPy (statistics 1e-9, p-values 1e-6 relative)', () => {
  for (const name of Object.keys(expected.cases)) {
    it(`${name}: CSV parser`, async () => {
      const o = await run({ reference: `${name}/reference.csv`, current: `${name}/current.csv` });
      expectMatchesScipy(o, name);
      expect(o.details).toMatchObject({ engine: { reference: 'csv-parser', current: 'csv-parser' } });
      expect(o.inputs).toEqual({
        [`${name}/reference.csv`]: await digestFile(path.join(FIXTURES, name, 'reference.csv')),
        [`${name}/current.csv`]: await digestFile(path.join(FIXTURES, name, 'current.csv')),
      });
    });

    it(`${name}: DuckDB`, async () => {
      const o = await run({ reference: `${name}/reference.csv`, current: `${name}/current.csv` }, { engine: 'duckdb' });
      expectMatchesScipy(o, name);
      expect(o.details).toMatchObject({ engine: { reference: 'duckdb', current: 'duckdb' } });
    });
  }
});

let tmp: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-drift-'));
  await withDuckDb(async (db) => {
    for (const role of ['reference', 'current']) {
      const src = path.join(FIXTURES, 'ties', `${role}.csv`);
      await db.all(`COPY (SELECT * FROM read_csv(${quoteLiteral(src)}, header = true)) TO ${quoteLiteral(path.join(tmp, `${role}.parquet`))} (FORMAT parquet)`);
    }
  });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  fs.writeFileSync(path.join(tmp, name), text);
  return name;
}

describe('inputs and formats', () => {
  it('reads Parquet through DuckDB with the same answers', async () => {
    const o = await run({ reference: 'reference.parquet', current: 'current.parquet' }, undefined, tmp);
    expectMatchesScipy(o, 'ties');
    expect(o.details).toMatchObject({ engine: { reference: 'duckdb', current: 'duckdb' } });
  });

  it('mixes Parquet and CSV', async () => {
    const o = await run({ reference: path.join(tmp, 'reference.parquet'), current: 'ties/current.csv' });
    expectMatchesScipy(o, 'ties');
  });

  it('sends a CSV the parser does not take (quotes) through DuckDB, with the same answers', async () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'small/current.csv'), 'utf8').trim().split('\n');
    const quoted = [lines[0], ...lines.slice(1).map((l, i) => (i === 5 ? l.replace(/,(\w+)$/, ',"$1"') : l))].join('\n') + '\n';
    const cur = write('quoted.csv', quoted);
    const o = await run({ reference: path.join(FIXTURES, 'small/reference.csv'), current: cur }, undefined, tmp);
    expectMatchesScipy(o, 'small');
    expect(o.details).toMatchObject({ engine: { current: 'duckdb' }, fallback: { current: 'quoted field' } });
  });

  it('gives the same figures from the parser and DuckDB on awkward numbers', async () => {
    // Mixed decimals (the parser rescales its keys), a wide range (it gives up counting by key),
    // more than 15 digits, exponents, negatives and -0, Windows line ends and no final newline.
    let seed = 3;
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const rows = (shift: number) =>
      Array.from({ length: 3000 }, (_, i) => {
        const a = (rnd() * 10 + shift).toFixed(i % 3);
        const b = i % 50 === 0 ? '' : i % 7 === 0 ? String(rnd() * 1e12 + shift) : i % 13 === 0 ? (rnd() * 1e-5).toExponential(2) : i % 17 === 0 ? `${(rnd() * 9).toFixed(1)}E+2` : (rnd() * 2 - 1).toFixed(6);
        const c = i % 11 === 0 ? '-0' : String(Math.floor(rnd() * 1e9) - 5e8);
        const d = String(0.1 + rnd() + shift);
        const e = (rnd() * 1e5 + shift).toFixed(2 - (i % 3));
        return `${a},${b},${c},${d},${e}`;
      });
    const ref = write('awkward-ref.csv', ['a,b,c,d,e', ...rows(0)].join('\r\n'));
    const cur = write('awkward-cur.csv', ['a,b,c,d,e', ...rows(0.3)].join('\r\n'));
    const fast = await run({ reference: ref, current: cur }, undefined, tmp);
    const duck = await run({ reference: ref, current: cur }, { engine: 'duckdb' }, tmp);
    expect(fast.details).toMatchObject({ engine: { reference: 'csv-parser', current: 'csv-parser' } });
    expect(fast.status).toBe('passed');
    expect(columnsOf(fast)).toEqual(columnsOf(duck));
    expect(fast.inputs).toEqual(duck.inputs);
  });

  it('treats columns listed in categorical as categories', async () => {
    const o = await run({ reference: 'small/reference.csv', current: 'small/current.csv', columns: ['age', 'channel'], categorical: ['age'] });
    const cols = columnsOf(o);
    expect(cols.age!.kind).toBe('categorical');
    expect(cols.age!.chi2_dof).toBeGreaterThan(10);
    expect(cols.age!.ks_statistic).toBeUndefined();
    const duck = await run({ reference: 'small/reference.csv', current: 'small/current.csv', columns: ['age', 'channel'], categorical: ['age'] }, { engine: 'duckdb' });
    expect(columnsOf(duck)).toEqual(cols);
  });
});

describe('time columns', () => {
  // Two windows of data: the same amounts and channels, rows made two months apart.
  const rows = (month: string) =>
    ['amount,channel,created_at,day', ...Array.from({ length: 40 }, (_, i) => `${(i % 10) + 1}.5,${i % 2 ? 'web' : 'app'},2026-${month}-01T00:${String(i).padStart(2, '0')}:00Z,2026-${month}-${String((i % 28) + 1).padStart(2, '0')}`)].join('\n') + '\n';

  it('leaves timestamp and date columns out of the default columns, and says so', async () => {
    const ref = write('timed-ref.csv', rows('09'));
    const cur = write('timed-cur.csv', rows('11'));
    for (const engine of ['auto', 'duckdb'] as const) {
      const o = await run({ reference: ref, current: cur, psi: { max: 0.2 } }, { engine }, tmp);
      expect(o.status, engine).toBe('passed');
      expect(Object.keys(columnsOf(o))).toEqual(['amount', 'channel']);
      expect(o.summary).toContain('(time columns left out: created_at, day)');
      expect((o.details as { leftOut: unknown }).leftOut).toEqual([
        { column: 'created_at', type: expect.stringMatching(/^TIMESTAMP/), reason: 'a time column: left out unless named in columns' },
        { column: 'day', type: 'DATE', reason: 'a time column: left out unless named in columns' },
      ]);
    }
  });

  it('compares a time column named in columns (and then it drifts)', async () => {
    const o = await run({ reference: write('timed-ref2.csv', rows('09')), current: write('timed-cur2.csv', rows('11')), columns: ['amount', 'created_at'], psi: { max: 0.2 } }, undefined, tmp);
    expect(o.status).toBe('failed');
    expect(o.summary).toContain('on created_at');
    expect((o.details as { leftOut?: unknown }).leftOut).toBeUndefined();
  });

  it('says the times were left out when no other column is in common', async () => {
    const only = (month: string) => `created_at\n2026-${month}-01T00:00:00Z\n2026-${month}-02T00:00:00Z\n`;
    const o = await run({ reference: write('only-ref.csv', only('09')), current: write('only-cur.csv', only('11')) }, undefined, tmp);
    expect(o.status).toBe('errored');
    expect(o.summary).toContain('have no column in common but their times (created_at, left out unless named in columns)');
  });
});

describe('thresholds', () => {
  const shifted = { reference: 'shifted/reference.csv', current: 'shifted/current.csv' };

  it('fails on the worst column with the measured value and the threshold in the summary', async () => {
    const o = await run({ ...shifted, psi: { max: 0.12 } });
    expect(o.status).toBe('failed');
    expect(o.summary).toBe('psi 0.153 > max 0.12 on score');
    expect(o.thresholds).toEqual({ psi: { max: 0.12 } });
    expect(o.details).toMatchObject({ violations: [{ column: 'score', metric: 'psi', op: '>', limit: 0.12 }] });
  });

  it('judges KS and chi-square p-values, and names the other violations', async () => {
    const o = await run({ ...shifted, ks: { minPvalue: 0.01 }, chi2: { minPvalue: 0.01 } });
    expect(o.status).toBe('failed');
    expect(o.summary).toBe('ks_pvalue 3.14e-227 < minPvalue 0.01 on score (and 3 more: ks_pvalue on amount, chi2_pvalue on channel, ks_pvalue on age)');
  });

  it('merges perColumn rules field by field', async () => {
    const o = await run({ ...shifted, psi: { max: 0.12 }, ks: { maxStatistic: 0.5 }, perColumn: { score: { psi: { max: 0.2 } } } });
    expect(o.status).toBe('passed');
    expect(o.summary).toBe('no drift beyond thresholds on 4 columns; closest: psi 0.104 vs max 0.12 on amount');
    const strict = await run({ ...shifted, ks: { maxStatistic: 0.5 }, perColumn: { age: { ks: { maxStatistic: 0.05 } } } });
    expect(strict.summary).toBe('ks_statistic 0.0522 > maxStatistic 0.05 on age');
  });

  it('passes without thresholds and says so', async () => {
    const o = await run({ reference: 'small/reference.csv', current: 'small/current.csv', columns: ['amount'] });
    expect(o).toMatchObject({ status: 'passed', summary: 'measured 1 column; no thresholds set' });
  });
});

describe('errors', () => {
  it('a missing file is errored, naming it', async () => {
    const o = await run({ reference: 'small/reference.csv', current: 'small/nope.csv' });
    expect(o.status).toBe('errored');
    expect(o.summary).toContain('nope.csv: no such file');
  });

  it('a file in an unknown format is errored', async () => {
    const o = await run({ reference: path.join(FIXTURES, 'small/reference.csv'), current: write('data.json', '{"a": 1}') }, undefined, tmp);
    expect(o.status).toBe('errored');
    expect(o.summary).toMatch(/unknown data format/);
  });

  it('a file that is not what its name says is errored', async () => {
    const o = await run({ reference: path.join(FIXTURES, 'small/reference.csv'), current: write('fake.parquet', 'amount,score\n1,2\n') }, undefined, tmp);
    expect(o.status).toBe('errored');
    expect(o.summary).toMatch(/^cannot read current fake\.parquet: /);
  });

  it('a missing column is errored, naming the column and the columns there are', async () => {
    const o = await run({ reference: 'small/reference.csv', current: 'small/current.csv', columns: ['amount', 'tenure'] });
    expect(o).toMatchObject({ status: 'errored', summary: 'column tenure is not in reference small/reference.csv (it has amount, score, age, channel)' });
    expect(Object.keys(o.inputs)).toHaveLength(2);
  });

  it('perColumn or categorical naming a column that is not compared is errored', async () => {
    const o = await run({ reference: 'small/reference.csv', current: 'small/current.csv', columns: ['amount'], perColumn: { amuont: { psi: { max: 1 } } } });
    expect(o).toMatchObject({ status: 'errored', summary: 'perColumn names amuont, which is not among the compared columns' });
  });

  it('a column with no values in one file is errored', async () => {
    const ref = write('some.csv', 'x,y\n1,a\n2,b\n');
    const cur = write('none.csv', 'x,y\n,a\n,b\n');
    const o = await run({ reference: ref, current: cur, columns: ['x'] }, undefined, tmp);
    expect(o).toMatchObject({ status: 'errored', summary: 'column x has no values in current none.csv (2 rows, all null)' });
  });

  it('the with block is strict', () => {
    expect(driftArgsSchema.safeParse({ reference: 'a.csv', current: 'b.csv', psi: { maximum: 0.2 } }).success).toBe(false);
    expect(driftArgsSchema.safeParse({ reference: 'a.csv', current: 'b.csv', ks: { minPvalue: 2 } }).success).toBe(false);
    expect(driftArgsSchema.safeParse({ reference: 'a.csv', current: 'b.csv', bins: 10 }).success).toBe(false);
    expect(driftArgsSchema.safeParse({ reference: 'a.csv', current: 'b.csv', perColumn: { a: { chi2: { minPvalue: 0.05 } } } }).success).toBe(true);
  });
});

describe('helpers', () => {
  it('formatNumber keeps three significant digits', () => {
    expect([0.31, 0.153284, 1.0370197632112205e-111, 0, 12345.6, 0.0001234].map(formatNumber)).toEqual(['0.31', '0.153', '1.04e-111', '0', '12300', '1.23e-4']);
  });
});
