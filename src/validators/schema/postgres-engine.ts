/**
 * The PostgreSQL engine: the contract's SQL pushed down to the table, so the rows never leave the
 * database; the input digest is a snapshot digest computed there too.
 */
import pg from 'pg';
import type { Digest } from '../../domain/digest.js';
import { toPlainValue, type Row } from '../duckdb.js';
import { InputError } from '../inputs.js';
import type { ValidatorContext } from '../validator.js';
import type { Contract } from './contract.js';
import { evaluateContract, type Dialect, type Evaluation } from './contract-sql.js';

/**
 * The snapshot digest of a PostgreSQL table: sha256 over the md5 of each row's text form, sorted,
 * concatenated. Sorting makes it independent of physical row order (VACUUM, updates that move
 * rows); it changes when any value, column, column order or column type changes. It is computed in
 * the same REPEATABLE READ transaction as the checks, so it names exactly the rows they judged.
 * Cost: one scan and a sort of 32 bytes per row.
 */
export const POSTGRES_SNAPSHOT_DIGEST =
  "SELECT encode(sha256(convert_to(coalesce(string_agg(h, '' ORDER BY h), ''), 'UTF8')), 'hex') AS digest FROM (SELECT md5(CAST(src AS text)) AS h FROM %s AS src) AS snapshot";

const pgDialect: Dialect = {
  ident: pg.escapeIdentifier,
  literal: pg.escapeLiteral,
  text: (e) => `CAST(${e} AS text)`,
  matches: (e, p) => `(${e} ~ ${pg.escapeLiteral(p)})`,
  int: (e) => `CAST(${e} AS integer)`,
  // numeric, not float8: a value like 1e308 that the pattern accepts must not overflow the cast.
  number: (e) => `CAST(${e} AS numeric)`,
  epochMs: (e) => `(extract(epoch FROM CAST(${e} AS timestamptz)) * 1000)`,
};

/** The URL as evidence may show it: without the password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

// Numbers as numbers, and dates and timestamps without a zone read as written / as UTC, so that
// sample rows look the same as DuckDB's for the same data.
const OID = { int8: 20, numeric: 1700, date: 1082, timestamp: 1114 } as const;

/**
 * Runs the contract over a PostgreSQL table or view, in one read-only REPEATABLE READ transaction
 * that also takes its snapshot digest; `label` names the data in messages.
 */
export async function checkPostgres(url: string, table: string, label: string, contract: Contract, now: Date, ctx: ValidatorContext): Promise<Evaluation & { digest: Digest }> {
  const client = new pg.Client({ connectionString: url, application_name: 'tollgate-schema' });
  client.setTypeParser(OID.int8, (v: string) => Number(v));
  client.setTypeParser(OID.numeric, (v: string) => Number(v));
  client.setTypeParser(OID.date, (v: string) => v);
  client.setTypeParser(OID.timestamp, (v: string) => new Date(`${v.replace(' ', 'T')}Z`));
  // Errors on an idle client (the server going away) would otherwise crash the process.
  client.on('error', () => undefined);
  const onAbort = () => void client.end().catch(() => undefined);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      await client.connect();
    } catch (err) {
      throw new InputError(`${label}: cannot connect: ${(err as Error).message || (err as NodeJS.ErrnoException).code}`);
    }
    const query = async (sql: string, params: unknown[] = []): Promise<Row[]> => {
      try {
        const res = await client.query(sql, params);
        return res.rows.map((r: Row) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toPlainValue(v)])));
      } catch (err) {
        throw new InputError(`${label}: ${(err as Error).message}`);
      }
    };
    // One snapshot for every query, and nothing written even by mistake.
    await query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await query("SET LOCAL TIME ZONE 'UTC'");
    const qualified = table.split('.').map((p) => pg.escapeIdentifier(p)).join('.');
    const [found] = await query('SELECT to_regclass($1) IS NOT NULL AS found', [qualified]);
    if (found?.found !== true) throw new InputError(`${label}: no table or view named ${table}`);
    const columns = (
      await query('SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum', [qualified])
    ).map((r) => String(r.attname));
    const evaluation = await evaluateContract({ dialect: pgDialect, from: qualified, columns, query: (sql) => query(sql) }, contract, now, ctx);
    const [snap] = await query(POSTGRES_SNAPSHOT_DIGEST.replace('%s', qualified));
    await query('ROLLBACK');
    return { ...evaluation, digest: `sha256:${String(snap?.digest)}` };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}
