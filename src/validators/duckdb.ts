/**
 * DuckDB for the data validators (schema, slices): one in-memory instance per run, rows read back
 * as plain objects a result can hold as evidence, and the quoting and file-reading SQL they share.
 * Data stays where it is: DuckDB scans the CSV or Parquet file in place, so a large file is never
 * loaded into JavaScript.
 */
import path from 'node:path';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';

// DuckDB's native module takes about half a second to load: loaded on first use, so that commands
// which run no data check (most of them) do not pay for it.
let duckdb: typeof import('@duckdb/node-api') | undefined;
import { InputError } from './inputs.js';

/** One result row: column name → a JSON-friendly value (numbers, strings, booleans, null). */
export type Row = Record<string, unknown>;

/** An open in-memory DuckDB. Close it when done; {@link withDuckDb} does that for you. */
export interface DuckDb {
  /** Runs one statement and returns every row as a plain object (see {@link toPlainValue}). */
  all(sql: string): Promise<Row[]>;
  close(): void;
}

/** The data files the validators read, chosen by file extension. */
export type DataFormat = 'csv' | 'parquet';

const FORMAT_BY_EXTENSION: ReadonlyArray<readonly [string, DataFormat]> = [
  ['.csv', 'csv'],
  ['.csv.gz', 'csv'],
  ['.tsv', 'csv'],
  ['.parquet', 'parquet'],
  ['.pq', 'parquet'],
];

/** The format of a data file by its extension, or undefined when it is neither CSV nor Parquet. */
export function dataFormatOf(file: string): DataFormat | undefined {
  const name = path.basename(file).toLowerCase();
  return FORMAT_BY_EXTENSION.find(([ext]) => name.endsWith(ext))?.[1];
}

/** The extensions {@link dataFormatOf} knows, for messages. */
export const DATA_EXTENSIONS = FORMAT_BY_EXTENSION.map(([ext]) => ext);

/** `"name"`, with embedded quotes doubled: safe for any column or table name. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new InputError(`invalid name ${JSON.stringify(name)}: it holds a NUL character`);
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * `'text'`, with embedded quotes doubled. DuckDB string literals have no backslash escapes, so
 * doubling the quote is the whole job.
 */
export function quoteLiteral(text: string): string {
  if (text.includes('\0')) throw new InputError(`invalid text ${JSON.stringify(text)}: it holds a NUL character`);
  return `'${text.replaceAll("'", "''")}'`;
}

/** A finite number as a SQL literal; anything else is refused so no `NaN` reaches the SQL text. */
export function numberLiteral(n: number): string {
  if (!Number.isFinite(n)) throw new InputError(`not a finite number: ${n}`);
  // Parenthesised so `x - -1` and `x < -1` read as meant.
  return n < 0 ? `(${n})` : String(n);
}

/**
 * The table function that reads a file: `read_csv(…)` or `read_parquet(…)`. A CSV file must have a
 * header row: the sniffer cannot tell a header from data when every column is text. For CSV, `types` pins
 * columns to a DuckDB type instead of sniffing them (the schema validator pins text columns to
 * VARCHAR so `01234` keeps its leading zero). Throws InputError for an unknown extension.
 */
export function readFileSql(file: string, options: { types?: Readonly<Record<string, string>> } = {}): string {
  const format = dataFormatOf(file);
  if (format === undefined) {
    throw new InputError(`${file}: unknown data format; name the file ${DATA_EXTENSIONS.join(', ')}`);
  }
  if (format === 'parquet') return `read_parquet(${quoteLiteral(file)})`;
  const types = Object.entries(options.types ?? {});
  const typesSql = types.length === 0 ? '' : `, types = {${types.map(([k, v]) => `${quoteLiteral(k)}: ${quoteLiteral(v)}`).join(', ')}}`;
  return `read_csv(${quoteLiteral(file)}, header = true${typesSql})`;
}

/**
 * Opens an in-memory DuckDB. The session time zone is UTC so that timestamps without a zone read
 * the same on every machine (the CSV sniffer and every cast use it), and extensions are never
 * downloaded: a validation must not depend on the network.
 */
export async function openDuckDb(signal?: AbortSignal): Promise<DuckDb> {
  duckdb ??= await import('@duckdb/node-api');
  const instance = await duckdb.DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  const onAbort = () => connection.interrupt();
  signal?.addEventListener('abort', onAbort, { once: true });
  const db: DuckDb = {
    all: (sql) => readAll(connection, sql),
    close() {
      signal?.removeEventListener('abort', onAbort);
      connection.closeSync();
      instance.closeSync();
    },
  };
  try {
    await db.all("SET TimeZone = 'UTC'");
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/** Opens DuckDB, runs `fn`, and closes it whatever happens. */
export async function withDuckDb<T>(fn: (db: DuckDb) => Promise<T>, signal?: AbortSignal): Promise<T> {
  const db = await openDuckDb(signal);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

async function readAll(connection: DuckDBConnection, sql: string): Promise<Row[]> {
  const reader = await connection.runAndReadAll(sql);
  const names = reader.columnNames();
  const types = reader.columnTypes();
  return reader.getRowsJS().map((values) => {
    const row: Row = {};
    names.forEach((name, i) => {
      row[name] = toPlainValue(values[i], types[i]);
    });
    return row;
  });
}

/**
 * A DuckDB value as plain JSON: BIGINT and HUGEINT become numbers (exact up to 2^53, which counts
 * and ids in validation data stay under; larger ones become strings rather than silently lose
 * digits), DATE becomes `YYYY-MM-DD`, timestamps ISO 8601 in UTC, lists and structs recursively.
 */
export function toPlainValue(value: unknown, type?: DuckDBType): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    return duckdb !== undefined && type?.typeId === duckdb.DuckDBTypeId.DATE ? value.toISOString().slice(0, 10) : value.toISOString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map((v) => toPlainValue(v));
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlainValue(v)]));
  return value;
}

/**
 * A DuckDB error as one line: DuckDB appends the SQL text and a caret under it, which would show
 * the user our query rather than their problem.
 */
export function duckDbMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split(/\n\s*\n|\nLINE \d+:/)[0]!.trim();
}
