/**
 * Drift's DuckDB reader: the authority on a file's columns and types (it sniffs every file first),
 * and the reader of every file the CSV parser does not take (Parquet, quoted CSV, …): `GROUP BY
 * value` per column, streamed into typed arrays.
 */
import type { Digest } from '../../domain/digest.js';
import { dataFormatOf, quoteIdent, quoteLiteral, readFileSql, type DuckDb } from '../duckdb.js';
import type { ColumnData, FileData, PlannedColumn } from './file-data.js';
import { sum } from './measurements.js';

/** A file's columns as DuckDB sniffed them. */
export interface FileSchema {
  readonly file: string;
  readonly names: readonly string[];
  readonly types: ReadonlyMap<string, string>;
  /** Set when the fast CSV parser may read this file. */
  readonly csv?: { readonly delimiter: number };
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/;
/** DuckDB's integer types: a column of one is read as integers by the CSV parser. */
export const INTEGER_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;

/** Whether DuckDB's type name is a number type (which makes a column numeric). */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPE.test(type.trim().toUpperCase());
}

/** DuckDB's date and time types (DATE, TIME, TIMESTAMP and its variants, with or without a zone). */
const TIME_TYPE = /^(DATE|TIME|TIMESTAMP)(_S|_MS|_NS)?( WITH TIME ZONE|TZ)?$/;

export function isTimeType(type: string): boolean {
  return TIME_TYPE.test(type.trim().toUpperCase());
}

/** Names and types of a file's columns; for CSV also whether its dialect suits the fast parser. */
export async function readSchema(db: DuckDb, file: string): Promise<FileSchema> {
  if (dataFormatOf(file) === 'csv' && !file.toLowerCase().endsWith('.gz')) {
    // One sniff gives both the dialect and the columns (the same names and types read_csv uses).
    const [sniff] = await db.all(
      'SELECT Delimiter AS d, NewLineDelimiter AS nl, Comment AS c, SkipRows AS s, HasHeader AS h, Columns AS cols ' +
        `FROM sniff_csv(${quoteLiteral(file)}, header = true)`,
    );
    const cols = (sniff?.cols as { name: string; type: string }[] | undefined) ?? [];
    const names = cols.map((c) => String(c.name));
    const types = new Map(cols.map((c) => [String(c.name), String(c.type)]));
    const d = String(sniff?.d ?? '');
    const plain =
      d.length === 1 && d.charCodeAt(0) < 128 && d !== '"' &&
      (sniff?.nl === '\\n' || sniff?.nl === '\\r\\n') &&
      sniff?.h === true && Number(sniff?.s) === 0 && (sniff?.c === '(empty)' || sniff?.c === '');
    return { file, names, types, ...(plain ? { csv: { delimiter: d.charCodeAt(0) } } : {}) };
  }
  const described = await db.all(`DESCRIBE SELECT * FROM ${readFileSql(file)}`);
  const names = described.map((r) => String(r.column_name));
  return { file, names, types: new Map(described.map((r) => [String(r.column_name), String(r.column_type)])) };
}

/** Reads the planned columns of one file through DuckDB: `GROUP BY value` per column. */
export async function readWithDuckDb(
  db: DuckDb,
  file: string,
  plan: readonly PlannedColumn[],
  digest: Digest,
  fallbackReason?: string,
): Promise<FileData> {
  const src = readFileSql(file);
  const [countRow] = await db.all(`SELECT count(*) AS n FROM ${src}`);
  const rows = Number(countRow?.n ?? 0);
  const columns = new Map<string, ColumnData>();
  for (const col of plan) {
    const id = quoteIdent(col.name);
    if (col.readAs === 'text') {
      // In a subquery, so that `k` cannot bind to a column of the file that happens to be called k.
      const got = await db.all(`SELECT k, count(*) AS c FROM (SELECT CAST(${id} AS VARCHAR) AS k FROM ${src} WHERE ${id} IS NOT NULL) GROUP BY k`);
      const counts = new Map(got.map((r) => [String(r.k), Number(r.c)]));
      columns.set(col.name, { kind: 'categorical', counts, nulls: rows - sum(counts.values()) });
      continue;
    }
    // NaN is a value to DuckDB but a null to pandas and to the definitions: dropped with the nulls.
    const { values, counts } = await streamValueCounts(
      `SELECT v, CAST(count(*) AS INTEGER) AS c FROM (SELECT CAST(${id} AS DOUBLE) AS v FROM ${src}) ` +
        'WHERE v IS NOT NULL AND NOT isnan(v) GROUP BY v ORDER BY v',
    );
    const n = sum(counts);
    if (col.readAs === 'number-as-text') {
      const byKey = new Map<string, number>();
      values.forEach((v, i) => byKey.set(String(v), (byKey.get(String(v)) ?? 0) + (counts[i] as number)));
      columns.set(col.name, { kind: 'categorical', counts: byKey, nulls: rows - n });
    } else {
      columns.set(col.name, { kind: 'numeric', sample: { values, divisor: 1, counts, n }, nulls: rows - n });
    }
  }
  return { rows, digest, columns, engine: 'duckdb', ...(fallbackReason ? { fallbackReason } : {}) };
}

/**
 * Runs a `SELECT v, c` query (DOUBLE, INTEGER; no nulls) and collects its rows into typed arrays,
 * chunk by chunk. A column can have millions of distinct values: reading them as JavaScript rows
 * (or one list) took over 4 GiB at 10 M rows, streaming takes the arrays' size.
 */
async function streamValueCounts(sql: string): Promise<{ values: Float64Array; counts: Int32Array }> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  try {
    const result = await connection.stream(sql);
    let values = new Float64Array(1 << 12);
    let counts = new Int32Array(1 << 12);
    let d = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const vv = chunk.getColumnVector(0);
      const cv = chunk.getColumnVector(1);
      if (d + chunk.rowCount > values.length) {
        values = grownTo(values, 2 * (d + chunk.rowCount));
        counts = grownTo(counts, values.length);
      }
      for (let i = 0; i < chunk.rowCount; i++) {
        values[d] = vv.getItem(i) as number;
        counts[d++] = cv.getItem(i) as number;
      }
    }
    return { values: values.slice(0, d), counts: counts.slice(0, d) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

function grownTo<T extends Float64Array | Int32Array>(a: T, size: number): T {
  const next = (a instanceof Int32Array ? new Int32Array(size) : new Float64Array(size)) as T;
  next.set(a);
  return next;
}
