import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../../test/fixtures/validators/context.js';
import { quoteLiteral, withDuckDb } from '../duckdb.js';
import { digestFile } from '../inputs.js';
import { createSchemaValidator, loadContract, redactUrl, type ContractViolation, type SchemaArgs } from './index.js';
import type { ValidatorOutcome } from '../validator.js';

const DIR = fixtureDir('schema');
// Fresh: the newest created_at in tx.csv is 2024-03-02T10:00:00Z, two hours before this.
const NOW = new Date('2024-03-02T12:00:00Z');
const validator = createSchemaValidator({ now: () => NOW });
const ctx = testContext(DIR);

function run(w: Record<string, unknown>, v = validator): Promise<ValidatorOutcome> {
  return v.run(v.schema.parse(w) as SchemaArgs, ctx);
}

function violationsOf(out: ValidatorOutcome): ContractViolation[] {
  return (out.details as { violations: ContractViolation[] }).violations;
}

/** What every engine must agree on: rule, column, count, message and which rows were sampled. */
function comparable(out: ValidatorOutcome) {
  return violationsOf(out).map((v) => ({ column: v.column, rule: v.rule, count: v.count, message: v.message, ids: v.samples.map((s) => String(s.id)) }));
}

/** tx.csv against tx.yaml, worked out by hand. */
const TX_VIOLATIONS = [
  { column: 'id', rule: 'not-null', count: 1, message: 'id: 1 null (nullable: false)', ids: ['null'] },
  { column: 'id', rule: 'unique', count: 1, message: 'id: 1 duplicate (unique)', ids: ['4', '4'] },
  { column: 'amount', rule: 'type', count: 1, message: 'amount: 1 value not a number', ids: ['3'] },
  { column: 'amount', rule: 'min', count: 1, message: 'amount: 1 value below min 0', ids: ['2'] },
  { column: 'amount', rule: 'max', count: 1, message: 'amount: 1 value above max 10000', ids: ['4'] },
  { column: 'currency', rule: 'allowed', count: 2, message: 'currency: 2 values not in allowed [EUR, USD, GBP]', ids: ['4', '7'] },
  { column: 'email', rule: 'regex', count: 1, message: 'email: 1 value not matching /^[^@ ]+@[^@ ]+$/', ids: ['4'] },
  { column: 'is_fraud', rule: 'type', count: 1, message: 'is_fraud: 1 value not a boolean (true/false/t/f/1/0)', ids: ['4'] },
  { column: 'day', rule: 'type', count: 1, message: 'day: 1 value not a date (YYYY-MM-DD)', ids: ['4'] },
  { column: 'day', rule: 'min', count: 1, message: 'day: 1 value below min 2024-01-01', ids: ['null'] },
  { column: 'created_at', rule: 'not-null', count: 1, message: 'created_at: 1 null (nullable: false)', ids: ['7'] },
];

let tmp: string;
/** Parquet copies of the CSV fixtures, written by DuckDB with the types it sniffs. */
const parquet = (name: string) => path.join(tmp, name.replace(/\.csv$/, '.parquet'));

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-schema-'));
  await withDuckDb(async (db) => {
    for (const name of ['tx.csv', 'clean.csv', 'types.csv']) {
      await db.all(`COPY (SELECT * FROM read_csv(${quoteLiteral(path.join(DIR, name))}, header = true)) TO ${quoteLiteral(parquet(name))} (FORMAT parquet)`);
    }
  });
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('schema: with', () => {
  it('accepts a file and a contract, and PostgreSQL with a table', () => {
    expect(validator.schema.parse({ data: 'a.csv', contract: 'c.yaml' })).toEqual({ data: 'a.csv', contract: 'c.yaml' });
    expect(validator.schema.parse({ data: 'postgres://u@h/db', table: 's.t', contract: 'c.yaml' })).toMatchObject({ table: 's.t' });
  });

  it.each([
    [{ contract: 'c.yaml' }, /data must be a CSV or Parquet path/],
    [{ data: 'a.csv' }, /contract must be the path of a contract YAML file/],
    [{ data: 'a.json', contract: 'c.yaml' }, /must end in \.csv/],
    [{ data: 'a.csv', table: 't', contract: 'c.yaml' }, /table applies only to PostgreSQL/],
    [{ data: 'postgres://u@h/db', contract: 'c.yaml' }, /PostgreSQL data needs table/],
    [{ data: 'postgres://u@h/db', table: 'a.b.c', contract: 'c.yaml' }, /must be a name or schema.name/],
    [{ data: 'a.csv', contract: 'c.yaml', extra: 1 }, /extra/],
  ])('rejects %j', (w, message) => {
    const r = validator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error!.issues)).toMatch(message);
  });
});

describe('schema: contract format', () => {
  it('fills in defaults', () => {
    const c = loadContract('columns:\n  id: { type: integer }\n', 'c.yaml');
    expect(c).toEqual({ columns: { id: { type: 'integer', nullable: true, unique: false } }, allowExtraColumns: true });
  });

  it.each(['*a', 'columns: *missing\n'])('refuses an alias to an anchor that is not set (%j) as invalid YAML, not an exception', (text) => {
    // Found by test/fuzz.parsers.test.ts: the yaml package threw a ReferenceError out of toJS().
    expect(() => loadContract(text, 'c.yaml')).toThrow(/^c\.yaml: invalid YAML: Unresolved alias/);
    try {
      loadContract(text, 'c.yaml');
    } catch (err) {
      expect(err).not.toBeInstanceOf(ReferenceError);
    }
  });

  it.each([
    ['bad-type.yaml', 'bad-type.yaml: invalid contract: columns.id.type: unknown type "float": use one of string, integer, number, boolean, timestamp, date'],
    ['bad-field.yaml', 'bad-field.yaml: invalid contract: columns.id: unknown field "nullible" (allowed: type, nullable, unique, min, max, allowed, regex, description)'],
    ['bad-top.yaml', /unknown field "colums" \(allowed: name, description, columns, allowExtraColumns, rows, freshness\)/],
    ['bad-yaml.yaml', /^bad-yaml\.yaml:\d+:\d+: invalid YAML: /],
  ])('%s is errored with a clear message', async (contract, message) => {
    const out = await run({ data: 'tx.csv', contract });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
    // The contract was read, so its digest is known even though it is invalid.
    expect(out.inputs[contract]).toBe(await digestFile(path.join(DIR, contract)));
  });

  it('names every rule that does not fit its column', async () => {
    const out = await run({ data: 'tx.csv', contract: 'bad-rules.yaml' });
    expect(out.status).toBe('errored');
    for (const part of [
      'columns.id.allowed: allowed values of a integer column must be whole numbers',
      'columns.id.regex: regex applies to string columns, not integer',
      'columns.currency.min: min applies to integer, number, date and timestamp columns, not string (use allowed or regex)',
      'columns.day.min: min of a date column must be a date like "2024-01-31"',
      'columns.amount.min: min 10 is above max 1',
      'freshness.maxAge: freshness.maxAge must be a duration like 30m, 24h or 7d',
      'freshness.column: freshness.column "currency" is a string column; it must be a timestamp or date',
    ]) {
      expect(out.summary).toContain(part);
    }
  });

  it('refuses a regex that does not compile', () => {
    expect(() => loadContract("columns:\n  a: { type: string, regex: '(' }\n", 'c.yaml')).toThrow(/columns\.a\.regex: invalid regex "\("/);
  });

  it('checks a regex with RE2 (what DuckDB runs), never compiling it in V8, and bounds its length (issue 13, finding 3)', () => {
    expect(() => loadContract("columns:\n  a: { type: string, regex: '(a)\\1' }\n", 'c.yaml')).toThrow(/columns\.a\.regex: invalid regex .*invalid escape/);
    expect(() => loadContract("columns:\n  a: { type: string, regex: '(?=a)' }\n", 'c.yaml')).toThrow(/columns\.a\.regex: invalid regex/);
    expect(() => loadContract(`columns:\n  a: { type: string, regex: '${'('.repeat(50_000)}' }\n`, 'c.yaml')).toThrow(/regex is 50000 characters long; at most 1000/);
    expect(() => loadContract(`columns:\n${'  '.repeat(1)}a: ${'['.repeat(50_000)}\n`, 'c.yaml')).toThrow(/c\.yaml: invalid YAML: collections nest too deep/);
    expect(loadContract("columns:\n  a: { type: string, regex: '^(a+)+$' }\n", 'c.yaml').columns.a!.regex).toBe('^(a+)+$');
  });
});

describe('schema: on files', () => {
  it('passes clean data and records both digests', async () => {
    const out = await run({ data: 'clean.csv', contract: 'tx.yaml' });
    expect(out.summary).toBe('5 rows meet contract tx.yaml (15 checks)');
    expect(out.status).toBe('passed');
    expect(out.measurements).toEqual({ rows: 5, violations: 0, checks: 15 });
    expect(out.inputs).toEqual({ 'clean.csv': await digestFile(path.join(DIR, 'clean.csv')), 'tx.yaml': await digestFile(path.join(DIR, 'tx.yaml')) });
    expect((out.thresholds as { contract: { rows: unknown } }).contract.rows).toEqual({ min: 5 });
    expect(ctx.reports.at(-1)).toEqual({ rows: 5 });
  });

  it('reports every violated rule of a CSV file with counts and sample rows', async () => {
    const out = await run({ data: 'tx.csv', contract: 'tx.yaml' });
    expect(out.status).toBe('failed');
    expect(comparable(out)).toEqual(TX_VIOLATIONS);
    expect(out.measurements).toEqual({ rows: 8, violations: 11, checks: 15 });
    expect(out.summary).toBe(
      '11 contract violations in 8 rows of tx.csv: id: 1 null (nullable: false); id: 1 duplicate (unique); amount: 1 value not a number; amount: 1 value below min 0; and 7 more',
    );
    // A sample is the whole row, as the file has it: the contract's columns as written.
    expect(violationsOf(out)[3]!.samples).toEqual([
      { id: '2', amount: '-5', currency: 'USD', email: 'b@x.io', is_fraud: 'false', day: '2024-01-02', created_at: '2024-03-01T11:00:00Z', note: 'refund' },
    ]);
  });

  it('gives the same violations on Parquet', async () => {
    const out = await run({ data: parquet('tx.csv'), contract: 'tx.yaml' });
    expect(out.status).toBe('failed');
    expect(comparable(out)).toEqual(TX_VIOLATIONS);
    expect(violationsOf(out)[3]!.samples[0]).toMatchObject({ id: 2, created_at: '2024-03-01T11:00:00.000Z' });
    expect(out.inputs[parquet('tx.csv')]).toBe(await digestFile(parquet('tx.csv')));
  });

  it('passes clean Parquet', async () => {
    const out = await run({ data: parquet('clean.csv'), contract: 'tx.yaml' });
    expect(out.summary).toBe('5 rows meet contract tx.yaml (15 checks)');
  });

  it('judges each type by the same patterns on CSV and Parquet', async () => {
    for (const data of ['types.csv', parquet('types.csv')]) {
      const out = await run({ data, contract: 'types.yaml' });
      expect(violationsOf(out).map((v) => [v.column, v.rule, v.count, v.samples.map((s) => String(s[v.column!]).toLowerCase().replace('infinity', 'inf'))])).toEqual([
        ['v_int', 'type', 2, ['1.5', 'x']],
        ['v_num', 'type', 2, ['nan', 'inf']],
        ['v_bool', 'type', 2, ['yes', '2']],
        ['v_date', 'type', 5, ['2023-02-29', '2024-13-01', '2024-04-31', '24-01-01', '2024-1-1']],
        ['v_ts', 'type', 3, ['2024-01-01t24:00:00z', '2024-02-30t10:00:00z', 'not a time']],
      ]);
    }
  });

  it('reports a missing column, extra columns and too many rows', async () => {
    const out = await run({ data: 'tx.csv', contract: 'strict.yaml' });
    expect(out.status).toBe('failed');
    expect(violationsOf(out).map((v) => v.message)).toEqual([
      '8 rows > max 3',
      'amount: 1 value not a number',
      'column merchant is missing',
      'column currency is not in the contract (allowExtraColumns: false)',
      'column email is not in the contract (allowExtraColumns: false)',
      'column is_fraud is not in the contract (allowExtraColumns: false)',
      'column day is not in the contract (allowExtraColumns: false)',
      'column created_at is not in the contract (allowExtraColumns: false)',
      'column note is not in the contract (allowExtraColumns: false)',
    ]);
    expect(violationsOf(out)[2]).toEqual({ column: 'merchant', rule: 'missing-column', count: 1, message: 'column merchant is missing', samples: [] });
  });

  it('fails stale data, naming the newest value and its age', async () => {
    const late = createSchemaValidator({ now: () => new Date('2024-03-05T00:00:00Z') });
    const out = await run({ data: 'clean.csv', contract: 'tx.yaml' }, late);
    expect(out.status).toBe('failed');
    expect(violationsOf(out)).toEqual([
      { column: 'created_at', rule: 'freshness', count: 1, samples: [], message: 'created_at: newest 2024-03-02T10:30:00.000Z is 2d13h30m old > maxAge 24h' },
    ]);
  });

  it.each([
    [{ data: 'missing.csv', contract: 'tx.yaml' }, /missing\.csv: no such file/],
    [{ data: 'tx.csv', contract: 'missing.yaml' }, /missing\.yaml: no such file/],
    [{ data: 'not-parquet.parquet', contract: 'tx.yaml' }, /^not-parquet\.parquet: cannot read as Parquet: .*magic bytes/],
  ])('errors on %j', async (w, message) => {
    const out = await run(w);
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
  });
});

describe('schema: redactUrl', () => {
  it('drops the password and keeps the rest', () => {
    expect(redactUrl('postgres://ci:s3cret@db:5432/ml')).toBe('postgres://ci@db:5432/ml');
    expect(redactUrl('postgres://ci@db/ml')).toBe('postgres://ci@db/ml');
  });
});

// These need a PostgreSQL server to push the checks down to; CI sets TOLLGATE_TEST_PG to one
// (e.g. postgres://postgres@127.0.0.1:5432/test), and a laptop without one still runs the rest.
describe.skipIf(!process.env.TOLLGATE_TEST_PG)('schema: on PostgreSQL', () => {
  const url = process.env.TOLLGATE_TEST_PG!;
  const schema = `tollgate_test_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });

  /** Loads a CSV fixture into a table, every value sent as text for PostgreSQL to convert. */
  async function load(table: string, columns: string, csv: string): Promise<void> {
    await admin.query(`CREATE TABLE ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)} (${columns})`);
    const rows = await withDuckDb((db) => db.all(`SELECT * FROM read_csv(${quoteLiteral(path.join(DIR, csv))}, header = true, all_varchar = true)`));
    for (const row of rows) {
      const values = Object.values(row);
      await admin.query(`INSERT INTO ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)} VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
    }
  }

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
    const tx = 'id bigint, amount text, currency text, email text, is_fraud text, day text, created_at timestamptz, note text';
    await load('tx', tx, 'tx.csv');
    await load('clean', 'id bigint, amount double precision, currency text, email text, is_fraud boolean, day date, created_at timestamptz, note text', 'clean.csv');
    await load('types', 'v_int text, v_num text, v_bool text, v_date text, v_ts text', 'types.csv');
    // A name that needs quoting, to show identifiers are quoted rather than pasted in.
    await load('Tx "quoted"', tx, 'tx.csv');
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    await admin.end();
  });

  it('gives the same violations as CSV and Parquet', async () => {
    const out = await run({ data: url, table: `${schema}.tx`, contract: 'tx.yaml' });
    expect(out.status).toBe('failed');
    expect(comparable(out)).toEqual(TX_VIOLATIONS);
    expect(out.measurements).toEqual({ rows: 8, violations: 11, checks: 15 });
    expect(violationsOf(out)[3]!.samples).toEqual([
      { id: 2, amount: '-5', currency: 'USD', email: 'b@x.io', is_fraud: 'false', day: '2024-01-02', created_at: '2024-03-01T11:00:00.000Z', note: 'refund' },
    ]);
  });

  it('passes clean typed columns and records a snapshot digest that ignores row order', async () => {
    const key = `${redactUrl(url)}#${schema}.clean`;
    const out = await run({ data: url, table: `${schema}.clean`, contract: 'tx.yaml' });
    expect(out.summary).toBe('5 rows meet contract tx.yaml (15 checks)');
    expect(out.inputs[key]).toMatch(/^sha256:[0-9a-f]{64}$/);

    // The same rows in another physical order give the same digest; one changed value another.
    const table = `${pg.escapeIdentifier(schema)}.clean`;
    await admin.query(`CREATE TABLE ${pg.escapeIdentifier(schema)}.shuffled AS SELECT * FROM ${table} ORDER BY id DESC`);
    await admin.query(`ALTER TABLE ${table} RENAME TO original`);
    await admin.query(`ALTER TABLE ${pg.escapeIdentifier(schema)}.shuffled RENAME TO clean`);
    const again = await run({ data: url, table: `${schema}.clean`, contract: 'tx.yaml' });
    expect(again.inputs[key]).toBe(out.inputs[key]);
    await admin.query(`UPDATE ${table} SET note = 'changed' WHERE id = 1`);
    const changed = await run({ data: url, table: `${schema}.clean`, contract: 'tx.yaml' });
    expect(changed.inputs[key]).not.toBe(out.inputs[key]);
  });

  it('judges each type by the same patterns as DuckDB', async () => {
    const out = await run({ data: url, table: `${schema}.types`, contract: 'types.yaml' });
    expect(violationsOf(out).map((v) => [v.column, v.count])).toEqual([
      ['v_int', 2],
      ['v_num', 2],
      ['v_bool', 2],
      ['v_date', 5],
      ['v_ts', 3],
    ]);
  });

  it('quotes table names: exact case, quotes inside', async () => {
    const out = await run({ data: url, table: `${schema}.Tx "quoted"`, contract: 'tx.yaml' });
    expect(comparable(out)).toEqual(TX_VIOLATIONS);
    const folded = await run({ data: url, table: `${schema}.tx "quoted"`, contract: 'tx.yaml' });
    expect(folded.summary).toMatch(/no table or view named/);
  });

  it('fails stale data the same way', async () => {
    const late = createSchemaValidator({ now: () => new Date('2024-03-05T00:00:00Z') });
    const out = await run({ data: url, table: `${schema}.tx`, contract: 'tx.yaml' }, late);
    expect(violationsOf(out).at(-1)!.message).toBe('created_at: newest 2024-03-02T10:00:00.000Z is 2d14h old > maxAge 24h');
  });

  it.each([
    [{ table: 'no_such.table' }, /no table or view named no_such\.table/],
    [{ data: 'postgres://postgres@127.0.0.1:1/test', table: 'a.b' }, /^postgres:\/\/postgres@127\.0\.0\.1:1\/test#a\.b: cannot connect/],
  ])('errors on %j', async (w, message) => {
    const out = await run({ data: url, contract: 'tx.yaml', ...w });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
    expect(Object.keys(out.inputs)).toEqual(['tx.yaml']);
  });
});
