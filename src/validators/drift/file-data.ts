/**
 * What reading a file means to drift, whichever reader does it: a plan of columns in (which to read
 * and how), a sample or category counts per column out.
 */
import type { Digest } from '../../domain/digest.js';
import type { SortedSample } from '../../stats/index.js';
import type { ParsedFile } from './csv-parser.js';

/** How a column is read: numbers, or categories (text as written; numbers as their JS string). */
export type ReadAs = 'number' | 'integer' | 'text' | 'number-as-text';

/** One column to read, and how. */
export interface PlannedColumn {
  readonly name: string;
  /** Position in the CSV line (fast parser only). */
  readonly index: number;
  readonly readAs: ReadAs;
}

/** One column of one file after reading: its non-null values and how many were null. */
export type ColumnData =
  | { readonly kind: 'numeric'; readonly sample: SortedSample; readonly nulls: number }
  | { readonly kind: 'categorical'; readonly counts: Map<string, number>; readonly nulls: number };

/** One file after reading: its rows, digest and the planned columns. */
export interface FileData {
  readonly rows: number;
  readonly digest: Digest;
  readonly columns: ReadonlyMap<string, ColumnData>;
  /** Which reader produced it, kept in `details` for anyone profiling a slow run. */
  readonly engine: 'csv-parser' | 'duckdb';
  readonly fallbackReason?: string;
}

/** The CSV parser's answer as {@link FileData}. */
export function fromParsed(parsed: ParsedFile, plan: readonly PlannedColumn[]): FileData {
  const columns = new Map<string, ColumnData>();
  parsed.columns.forEach((c, i) => {
    const name = (plan[i] as PlannedColumn).name;
    if (c.kind === 'numeric') columns.set(name, { kind: 'numeric', sample: c.sample, nulls: c.nulls });
    else columns.set(name, { kind: 'categorical', counts: new Map(c.entries), nulls: c.nulls });
  });
  return { rows: parsed.rows, digest: parsed.digest, columns, engine: 'csv-parser' };
}
