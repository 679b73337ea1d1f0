/**
 * `drift`: compares a current dataset with a reference one, column by column (CSV or Parquet).
 *
 * ```yaml
 * - id: drift
 *   uses: drift
 *   with:
 *     reference: data/reference.parquet
 *     current: data/current.csv
 *     columns: [amount, score, channel]   # default: every column both files have
 *     categorical: [zip]                  # read as categories even though DuckDB types them as numbers
 *     psi: { max: 0.2 }                   # every column
 *     ks: { maxStatistic: 0.1, minPvalue: 0.01 }
 *     chi2: { minPvalue: 0.01 }
 *     perColumn:
 *       amount: { psi: { max: 0.3 } }     # field by field over the rules above
 * ```
 *
 * A column is numeric when DuckDB types it as a number in both files (and it is not listed in
 * `categorical`), else categorical. Nulls (empty fields; NaN too) are dropped and counted first.
 * - numeric: the two-sided two-sample Kolmogorov–Smirnov statistic and p-value exactly as
 *   `scipy.stats.ks_2samp` computes them (exact p-value up to 10 000 values a side, else the
 *   Kolmogorov distribution), and PSI over ten bins cut at the reference's deciles;
 * - categorical: PSI over every category seen in either file, and the chi-square test of
 *   homogeneity on the 2 × k table of counts (no continuity correction).
 * The definitions, and data with SciPy's answers, are in `shared/fixtures/drift/`.
 *
 * `failed` when a column breaks a threshold (`psi > max`, `ks_statistic > maxStatistic`,
 * `ks_pvalue < minPvalue`, `chi2_pvalue < minPvalue`); the summary names the worst one. Without
 * thresholds the columns are measured and the result passes. `errored` when a file cannot be read,
 * a named column is missing, or a column has no values in one of the files.
 *
 * ## How it reads large files
 * Every statistic here depends on the data only through each column's sorted values and their
 * counts, so each file is reduced, in one pass, to a {@link SortedSample} per column; the two are
 * then merged. A plain CSV file (one-byte delimiter, a header, no quoting, numbers and text only)
 * is parsed by a byte-level parser in a worker thread, one per file, started before DuckDB has
 * finished sniffing and hashing the file meanwhile. It keeps each number as an exact integer key
 * (value × 10^decimals): counted per key while the keys' range fits a cache, else appended as
 * 32-bit keys and radix-sorted, else (more digits than that) as doubles. DuckDB remains the
 * authority: it sniffs the file first (names, types, dialect), and anything the parser does not
 * expect sends that file through DuckDB instead (`GROUP BY value` per column), as does every
 * Parquet file. Both paths give the same numbers; the tests run both on every fixture.
 * Why not DuckDB alone: on a 2-core machine streaming 10 M rows × 10 columns from DuckDB into
 * JavaScript costs about four bare scans (one 2 048-row chunk per round trip), and holding the
 * raw values costs 1.6 GB whose first touch alone takes seconds in a micro-VM. The parser is
 * hand-written because no library parses CSV numbers into typed arrays at anything like that
 * speed (it reads 637 MB in about 2 s on one core); bench/README.md has the measurements.
 */
import fs from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
// Type-only: the worker thread that runs the CSV parser loads this module and must not load DuckDB.
import type { DuckDb } from './duckdb.js';
import { digestFile, InputError, resolveInput } from './inputs.js';
import {
  binCountsSample,
  chi2Homogeneity,
  psiEdgesSample,
  sortInt32,
  ksStatisticSamples,
  ksTwoSample,
  psiFromCounts,
  psiSamples,
  sortFloat64,
  type SortedSample,
} from '../stats/index.js';
import { errored, type Validator, type ValidatorContext, type ValidatorOutcome } from './validator.js';

// ---------------------------------------------------------------------------------------------
// The `with` block
// ---------------------------------------------------------------------------------------------

const probability = z.number().min(0).max(1);
const psiRule = z.strictObject({ max: z.number().min(0) });
const ksRule = z.strictObject({ maxStatistic: probability.optional(), minPvalue: probability.optional() });
const chi2Rule = z.strictObject({ minPvalue: probability.optional() });
const columnRules = z.strictObject({ psi: psiRule.optional(), ks: ksRule.optional(), chi2: chi2Rule.optional() });

/** The `with` block of a drift validation; strict, so a misspelt threshold is an error, not a no-op. */
export const driftArgsSchema = z.strictObject({
  /** Path of the reference dataset (CSV or Parquet, by extension). */
  reference: z.string().min(1),
  /** Path of the current dataset. */
  current: z.string().min(1),
  /** Columns to compare; default: every column both files have, in the reference's order. */
  columns: z.array(z.string().min(1)).min(1).optional(),
  /** Columns to treat as categorical although DuckDB types them as numbers (codes, zip codes). */
  categorical: z.array(z.string().min(1)).optional(),
  psi: psiRule.optional(),
  ks: ksRule.optional(),
  chi2: chi2Rule.optional(),
  /** Rules for single columns, merged field by field over the rules for all columns. */
  perColumn: z.record(z.string().min(1), columnRules).optional(),
});

export type DriftArgs = z.infer<typeof driftArgsSchema>;
type ColumnRules = z.infer<typeof columnRules>;

// ---------------------------------------------------------------------------------------------
// Measurements (pure)
// ---------------------------------------------------------------------------------------------

/** `measurements.columns.NAME`: the field names are a contract (DESIGN.md, `validate --json`). */
export interface ColumnMeasurement {
  readonly kind: 'numeric' | 'categorical';
  readonly ks_statistic?: number;
  readonly ks_pvalue?: number;
  /** `exact` or `asymp`: which distribution gave `ks_pvalue`, as SciPy chose it. */
  readonly ks_method?: string;
  readonly psi: number;
  readonly chi2_statistic?: number;
  readonly chi2_pvalue?: number;
  readonly chi2_dof?: number;
  readonly n_reference: number;
  readonly n_current: number;
  readonly nulls_reference: number;
  readonly nulls_current: number;
}

/** KS and PSI of one numeric column from the two samples (nulls already dropped). */
export function measureNumeric(
  reference: SortedSample,
  current: SortedSample,
): Pick<ColumnMeasurement, 'ks_statistic' | 'ks_pvalue' | 'ks_method' | 'psi'> {
  const ks = ksTwoSample(reference.n, current.n, ksStatisticSamples(reference, current));
  const psi = psiSamples(reference, current);
  return { ks_statistic: ks.statistic, ks_pvalue: ks.pvalue, ks_method: ks.method, psi };
}

/** PSI and the chi-square test of one categorical column from the counts per category. */
export function measureCategorical(
  reference: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, number>,
): Pick<ColumnMeasurement, 'psi' | 'chi2_statistic' | 'chi2_pvalue' | 'chi2_dof'> {
  const categories = [...new Set([...reference.keys(), ...current.keys()])].sort();
  const r = Float64Array.from(categories, (c) => reference.get(c) ?? 0);
  const c = Float64Array.from(categories, (k) => current.get(k) ?? 0);
  const chi2 = chi2Homogeneity(r, c);
  return { psi: psiFromCounts(r, c), chi2_statistic: chi2.statistic, chi2_pvalue: chi2.pvalue, chi2_dof: chi2.dof };
}

/** Shares per bin, reference and current, with a label per bin. */
export interface DistributionBins {
  readonly labels: string[];
  readonly reference: number[];
  readonly current: number[];
}

const shares = (counts: ArrayLike<number>): number[] => {
  const a = Array.from(counts);
  const total = a.reduce((x, y) => x + y, 0);
  return a.map((x) => (total > 0 ? x / total : 0));
};

/** The ten PSI bins of a numeric column (edges at the reference's deciles). */
export function numericBins(reference: SortedSample, current: SortedSample): { bins: DistributionBins } {
  const edges = Array.from(psiEdgesSample(reference));
  const labels = edges.map((e, i) => (i === 0 ? `< ${formatNumber(e)}` : `${formatNumber(edges[i - 1]!)}–${formatNumber(e)}`));
  labels.push(`≥ ${formatNumber(edges[edges.length - 1]!)}`);
  return { bins: { labels, reference: shares(binCountsSample(edges, reference)), current: shares(binCountsSample(edges, current)) } };
}

/** Every category seen in either sample, at most the 30 most frequent in the reference. */
export function categoricalBins(reference: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>): { bins: DistributionBins } {
  const categories = [...new Set([...reference.keys(), ...current.keys()])].sort((a, b) => (reference.get(b) ?? 0) - (reference.get(a) ?? 0)).slice(0, 30);
  const totalR = sum(reference.values());
  const totalC = sum(current.values());
  return {
    bins: {
      labels: categories,
      reference: categories.map((k) => (totalR > 0 ? (reference.get(k) ?? 0) / totalR : 0)),
      current: categories.map((k) => (totalC > 0 ? (current.get(k) ?? 0) / totalC : 0)),
    },
  };
}

/** One threshold a column broke, or came closest to. */
export interface Verdict {
  readonly column: string;
  readonly metric: 'psi' | 'ks_statistic' | 'ks_pvalue' | 'chi2_pvalue';
  readonly value: number;
  readonly op: '>' | '<';
  readonly limit: number;
  readonly bound: 'max' | 'maxStatistic' | 'minPvalue';
  /** value / limit for upper bounds, limit / value for lower ones: above 1 means broken. */
  readonly severity: number;
}

/** The rules for one column: `perColumn` merged field by field over the rules for every column. */
export function rulesFor(args: Pick<DriftArgs, 'psi' | 'ks' | 'chi2' | 'perColumn'>, column: string): ColumnRules {
  const own = args.perColumn?.[column];
  const merge = <T extends object>(a: T | undefined, b: T | undefined): T | undefined => (a || b ? { ...a, ...b } as T : undefined);
  const out: ColumnRules = {};
  const psi = merge(args.psi, own?.psi);
  const ks = merge(args.ks, own?.ks);
  const chi2 = merge(args.chi2, own?.chi2);
  if (psi) out.psi = psi;
  if (ks) out.ks = ks;
  if (chi2) out.chi2 = chi2;
  return out;
}

/** Every threshold check of one column, broken or not (pure). */
export function judgeColumn(column: string, m: ColumnMeasurement, rules: ColumnRules): Verdict[] {
  const out: Verdict[] = [];
  const upper = (metric: Verdict['metric'], value: number | undefined, limit: number | undefined, bound: Verdict['bound']) => {
    if (value === undefined || limit === undefined) return;
    out.push({ column, metric, value, op: '>', limit, bound, severity: limit > 0 ? value / limit : value > 0 ? Infinity : 0 });
  };
  const lower = (metric: Verdict['metric'], value: number | undefined, limit: number | undefined) => {
    if (value === undefined || limit === undefined) return;
    out.push({ column, metric, value, op: '<', limit, bound: 'minPvalue', severity: value > 0 ? limit / value : limit > 0 ? Infinity : 0 });
  };
  upper('psi', m.psi, rules.psi?.max, 'max');
  if (m.kind === 'numeric') {
    upper('ks_statistic', m.ks_statistic, rules.ks?.maxStatistic, 'maxStatistic');
    lower('ks_pvalue', m.ks_pvalue, rules.ks?.minPvalue);
  } else {
    lower('chi2_pvalue', m.chi2_pvalue, rules.chi2?.minPvalue);
  }
  return out;
}

/** Whether a check is broken: strictly beyond its limit (a PSI equal to `max` passes). */
export function isBroken(v: Verdict): boolean {
  return v.op === '>' ? v.value > v.limit : v.value < v.limit;
}

/** A number for a summary line: three significant digits, exponent form when tiny or huge. */
export function formatNumber(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e-3 && a < 1e6) return String(Number(x.toPrecision(3)));
  return x.toExponential(2).replace(/\.?0+e/, 'e');
}

function describe(v: Verdict): string {
  return `${v.metric} ${formatNumber(v.value)} ${v.op} ${v.bound === 'max' ? 'max' : v.bound} ${formatNumber(v.limit)} on ${v.column}`;
}

// ---------------------------------------------------------------------------------------------
// Reading a file into samples
// ---------------------------------------------------------------------------------------------

/** How a column is read: numbers, or categories (text as written; numbers as their JS string). */
type ReadAs = 'number' | 'integer' | 'text' | 'number-as-text';

interface PlannedColumn {
  readonly name: string;
  /** Position in the CSV line (fast parser only). */
  readonly index: number;
  readonly readAs: ReadAs;
}

/** One column of one file after reading: its non-null values and how many were null. */
type ColumnData =
  | { readonly kind: 'numeric'; readonly sample: SortedSample; readonly nulls: number }
  | { readonly kind: 'categorical'; readonly counts: Map<string, number>; readonly nulls: number };

interface FileData {
  readonly rows: number;
  readonly digest: Digest;
  readonly columns: ReadonlyMap<string, ColumnData>;
  /** Which reader produced it, kept in `details` for anyone profiling a slow run. */
  readonly engine: 'csv-parser' | 'duckdb';
  readonly fallbackReason?: string;
}

interface FileSchema {
  readonly file: string;
  readonly names: readonly string[];
  readonly types: ReadonlyMap<string, string>;
  /** Set when the fast CSV parser may read this file. */
  readonly csv?: { readonly delimiter: number };
}

type DuckModule = typeof import('./duckdb.js');

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?)$/;
const INTEGER_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;

/** Whether DuckDB's type name is a number type (which makes a column numeric). */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPE.test(type.trim().toUpperCase());
}

/** Names and types of a file's columns; for CSV also whether its dialect suits the fast parser. */
async function readSchema(duck: DuckModule, db: DuckDb, file: string): Promise<FileSchema> {
  const { dataFormatOf, quoteLiteral, readFileSql } = duck;
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
async function readWithDuckDb(
  duck: DuckModule,
  db: DuckDb,
  file: string,
  plan: readonly PlannedColumn[],
  digest: Digest,
  fallbackReason?: string,
): Promise<FileData> {
  const { quoteIdent, readFileSql } = duck;
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

function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

// ---------------------------------------------------------------------------------------------
// The fast CSV parser (runs in a worker thread, or inline for small files and under the tests)
// ---------------------------------------------------------------------------------------------

/** What the parser sends back: per planned column, a sample or category counts. */
interface ParsedFile {
  readonly rows: number;
  readonly digest: Digest;
  readonly columns: ReadonlyArray<
    | { readonly kind: 'numeric'; readonly sample: SortedSample; readonly nulls: number }
    | { readonly kind: 'categorical'; readonly entries: [string, number][]; readonly nulls: number }
  >;
}

/** The parser declined the file: DuckDB reads it instead. Not an error the user sees. */
class Unsupported extends Error {}

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
const MAX_EXACT = 2 ** 53;
const LF = 10;
const CR = 13;
const MINUS = 45;
const DOT = 46;
const QUOTE = 34;
const BLOCK = 1 << 22;

/**
 * Counting stays within about a cache's worth of slots: a random increment into a bigger array
 * costs a memory round trip per value (measured: byte counters over 12 M slots were four times
 * slower than appending the keys and radix-sorting them afterwards).
 */
const DENSE_MAX_SLOTS = 1 << 19;
const INT32_MAX = 2 ** 31 - 1;

const EMPTY = 0;
const DENSE = 1;
const KEYS = 3;
const DOUBLES = 4;

/**
 * One numeric column's values while parsing. A value written `-?digits.digits` is the integer
 * k = ±digits at the column's decimal scale S (value = k / 10^S, exactly the double the text
 * denotes: both operands are exact and IEEE division rounds correctly). Three ways to keep them,
 * cheapest first, moving on when the data no longer fits:
 * - dense: a count per k while the range of k is small ({@link DENSE_MAX_SLOTS}); needs no sort;
 * - keys: the k themselves as 32-bit integers, radix-sorted at the end (half the bytes of doubles);
 * - doubles: the values, for anything else (more digits, wider ranges, exponents beyond the scale).
 */
class NumberColumn {
  nulls = 0;
  private mode = EMPTY;
  private scale = 0;
  private base = 0;
  private dense = new Int32Array(0);
  private keys = new Int32Array(0);
  private nk = 0;
  private kmin = INT32_MAX;
  private kmax = -INT32_MAX;
  private dbl = new Float64Array(0);
  private nd = 0;

  /** `rows`: the expected number of values, to size the raw arrays once. */
  constructor(private readonly rows: number) {}

  /** How many keys the radix sort will have to sort. */
  get length(): number {
    return this.mode === KEYS ? this.nk : 0;
  }

  /**
   * Adds the value m / 10^s (m a signed integer below 2^53 in magnitude, s ≤ 22). Small on
   * purpose, so that it is inlined into the parser's loop; everything unusual is in addSlow.
   */
  add(m: number, s: number): void {
    if (s === this.scale) {
      const i = m - this.base;
      if (this.mode === DENSE) {
        const d = this.dense;
        if (i >= 0 && i < d.length) {
          d[i] = (d[i] as number) + 1;
          return;
        }
      } else if (this.mode === KEYS && this.nk < this.keys.length && m <= INT32_MAX && m >= -INT32_MAX) {
        this.keys[this.nk++] = m;
        if (m < this.kmin) this.kmin = m;
        if (m > this.kmax) this.kmax = m;
        return;
      }
    }
    this.addSlow(m, s);
  }

  private addSlow(m: number, s: number): void {
    switch (this.mode) {
      case EMPTY:
        this.mode = DENSE;
        this.scale = s;
        this.dense = new Int32Array(1 << 12);
        this.base = m - (1 << 11);
        return this.add(m, s);
      case DOUBLES:
        return this.addDouble(m / (POW10[s] as number));
    }
    if (s > this.scale) {
      if (!this.rescale(s)) this.toDoubles();
      return this.add(m, s);
    }
    const k = s < this.scale ? m * (POW10[this.scale - s] as number) : m;
    if (s < this.scale && k < MAX_EXACT && k > -MAX_EXACT && this.mode === DENSE) {
      const i = k - this.base;
      if (i >= 0 && i < this.dense.length) return this.add(k, this.scale);
    }
    if (this.mode === DENSE) {
      if (!this.widen(k)) this.toKeys();
      return this.add(k, this.scale);
    }
    // Keys: room, or a key outside 32 bits.
    if (k > INT32_MAX || k < -INT32_MAX) {
      this.toDoubles();
      return this.addDouble(m / (POW10[s] as number));
    }
    if (this.nk === this.keys.length) this.keys = grown(this.keys, this.rows);
    this.keys[this.nk++] = k;
    if (k < this.kmin) this.kmin = k;
    if (k > this.kmax) this.kmax = k;
  }

  /** Adds a value that is not an exact decimal of at most 15 digits. */
  addDouble(v: number): void {
    if (this.mode !== DOUBLES) this.toDoubles();
    if (this.nd === this.dbl.length) this.dbl = grown(this.dbl, this.rows);
    this.dbl[this.nd++] = v;
  }

  /** The counted keys and their counts, ascending (dense mode). */
  private counted(): { keys: Float64Array; counts: Int32Array } {
    const d = this.dense;
    let distinct = 0;
    for (let i = 0; i < d.length; i++) if (d[i] !== 0) distinct++;
    const keys = new Float64Array(distinct);
    const counts = new Int32Array(distinct);
    for (let i = 0, j = 0; i < d.length; i++) {
      if (d[i] !== 0) {
        keys[j] = this.base + i;
        counts[j++] = d[i] as number;
      }
    }
    return { keys, counts };
  }

  /** Widens the counting range to hold key k, with headroom; false when that gets too wide. */
  private widen(k: number): boolean {
    if (k >= MAX_EXACT || k <= -MAX_EXACT) return false;
    const lo = Math.min(this.base, k);
    const hi = Math.max(this.base + this.dense.length - 1, k);
    const span = hi - lo + 1;
    if (span > DENSE_MAX_SLOTS) return false;
    const size = Math.min(DENSE_MAX_SLOTS, 2 * span);
    const base = k < this.base ? hi - size + 1 : lo;
    const next = new Int32Array(size);
    next.set(this.dense, this.base - base);
    this.dense = next;
    this.base = base;
    return true;
  }

  /** More decimals than so far: every key becomes k · 10^(s − S), if that still fits. */
  private rescale(s: number): boolean {
    const f = POW10[s - this.scale] as number;
    if (this.mode === KEYS) {
      if (this.kmax * f > INT32_MAX || this.kmin * f < -INT32_MAX) return false;
      for (let i = 0; i < this.nk; i++) this.keys[i] = (this.keys[i] as number) * f;
      if (this.nk > 0) {
        this.kmin *= f;
        this.kmax *= f;
      }
      this.scale = s;
      return true;
    }
    // Dense: start again from the counted keys at the new scale, if they still fit.
    const { keys, counts } = this.counted();
    const lo = (keys[0] ?? 0) * f;
    const hi = (keys[keys.length - 1] ?? 0) * f;
    if (hi - lo + 1 > DENSE_MAX_SLOTS || Math.abs(lo) >= MAX_EXACT || Math.abs(hi) >= MAX_EXACT) {
      // Too wide to count: the values so far become keys (or doubles) at the old scale first.
      this.toKeys();
      return this.rescale(s);
    }
    this.dense = new Int32Array(Math.max(1 << 12, Math.min(DENSE_MAX_SLOTS, 2 * (hi - lo + 1))));
    this.base = lo;
    this.scale = s;
    for (let j = 0; j < keys.length; j++) this.dense[(keys[j] as number) * f - lo] = counts[j] as number;
    return true;
  }

  /** Counted keys out as a list of keys, each repeated by its count. */
  private toKeys(): void {
    const { keys, counts } = this.counted();
    let total = 0;
    for (const c of counts) total += c;
    const lo = keys[0] ?? 0;
    const hi = keys[keys.length - 1] ?? 0;
    this.dense = new Int32Array(0);
    this.mode = KEYS;
    this.keys = new Int32Array(Math.max(total, Math.min(this.rows, 1 << 16)));
    this.nk = 0;
    if (hi > INT32_MAX || lo < -INT32_MAX) {
      this.mode = DOUBLES;
      const p = POW10[this.scale] as number;
      for (let j = 0; j < keys.length; j++) for (let c = 0; c < (counts[j] as number); c++) this.addDouble((keys[j] as number) / p);
      return;
    }
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j] as number;
      for (let c = 0; c < (counts[j] as number); c++) this.keys[this.nk++] = k;
    }
    if (keys.length > 0) {
      this.kmin = lo;
      this.kmax = hi;
    }
  }

  private toDoubles(): void {
    if (this.mode === DOUBLES) return;
    if (this.mode === DENSE) this.toKeys();
    if (this.mode === DOUBLES) return;
    const p = POW10[this.scale] as number;
    this.mode = DOUBLES;
    this.dbl = new Float64Array(Math.max(this.nk, Math.min(this.rows, 1 << 16)));
    for (let i = 0; i < this.nk; i++) this.dbl[i] = (this.keys[i] as number) / p;
    this.nd = this.nk;
    this.keys = new Int32Array(0);
    this.nk = 0;
  }

  /** The column's sample, ascending; `scratch` is the radix sort's spare array, shared by columns. */
  finish(scratch?: Int32Array): SortedSample {
    const p = POW10[this.scale] as number;
    if (this.mode === DENSE) {
      const { keys, counts } = this.counted();
      let n = 0;
      for (let j = 0; j < keys.length; j++) {
        keys[j] = (keys[j] as number) / p;
        n += counts[j] as number;
      }
      return { values: keys, divisor: 1, counts, n };
    }
    if (this.mode === KEYS) {
      // Sorted keys go out as they are (value = key / 10^S): no second array of doubles.
      const keys = sortInt32(this.keys.subarray(0, this.nk), this.kmin, this.kmax, scratch);
      return { values: keys, divisor: p, counts: null, n: keys.length };
    }
    if (this.mode === DOUBLES) {
      const values = sortFloat64(this.dbl.subarray(0, this.nd));
      this.dbl = new Float64Array(0);
      return { values, divisor: 1, counts: null, n: values.length };
    }
    return { values: new Float64Array(0), divisor: 1, counts: null, n: 0 };
  }
}

/** A copy with room for more: to the expected size first, then half again. */
function grown<T extends Int32Array | Float64Array>(a: T, expected: number): T {
  const size = Math.max(1 << 16, a.length < expected ? expected : Math.ceil(a.length * 1.5));
  const next = (a instanceof Int32Array ? new Int32Array(size) : new Float64Array(size)) as T;
  next.set(a);
  return next;
}

interface ParseJob {
  readonly file: string;
  readonly delimiter: number;
  readonly names: readonly string[];
  readonly plan: readonly PlannedColumn[];
}

/**
 * Parses a plain CSV file: header, then lines of `delimiter`-separated fields without quotes; a
 * number field is `-?digits(.digits)?([eE][+-]?digits)?` (digits only for integer columns), a text
 * field anything without a quote; an empty field is null. Throws {@link Unsupported} at the first
 * thing outside that, so DuckDB reads the file instead. Hashes every byte it reads (the input
 * digest comes for free). Exported for tests and benchmarks.
 */
export function parsePlainCsv(job: ParseJob, prehashed?: Prehashed): ParsedFile {
  const { delimiter: DELIM, plan } = job;
  const ncols = job.names.length;
  const slot = new Int32Array(ncols).fill(-1);
  plan.forEach((c, i) => (slot[c.index] = i));
  // Per planned column: 0 number, 1 integer (no dot or exponent), 2 text, 3 number read as text.
  const kind = Uint8Array.from(plan, (c) => ['number', 'integer', 'text', 'number-as-text'].indexOf(c.readAs));
  const fd = fs.openSync(job.file, 'r');
  const size = fs.fstatSync(fd).size;
  const hash = prehashed?.hash ?? createHash('sha256');
  // Bytes before this offset were hashed while DuckDB was still sniffing (see parserWorker).
  const hashedUpTo = prehashed?.bytes ?? 0;
  let offset = 0;
  let numbers: (NumberColumn | null)[] = [];
  const texts: (Map<string, number> | null)[] = plan.map((c) => (c.readAs === 'text' || c.readAs === 'number-as-text' ? new Map() : null));
  const textNulls = new Float64Array(plan.length);
  let buf = Buffer.allocUnsafe(BLOCK + 1);
  let carry = 0;
  let rows = 0;
  let header = true;
  let eof = false;
  try {
    while (!eof) {
      if (carry === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
      }
      const got = fs.readSync(fd, buf, carry, buf.length - carry - 1, null);
      if (offset + got > hashedUpTo) hash.update(buf.subarray(carry + Math.max(0, hashedUpTo - offset), carry + got));
      offset += got;
      let end = carry + got;
      if (got === 0) {
        eof = true;
        if (end === 0) break;
        if (buf[end - 1] !== LF) buf[end++] = LF; // a last line without a newline
      }
      let last = end - 1;
      while (last >= 0 && buf[last] !== LF) last--;
      if (last < 0) {
        carry = end;
        continue;
      }
      let i = 0;
      if (header) {
        header = false;
        i = checkHeader(buf, last, DELIM, job.names);
        if (i === 0) throw new Unsupported('header differs from what DuckDB read');
        // The rows to expect, from the first block's line length: raw arrays are sized once.
        const lineBytes = Math.max(1, (last + 1 - i) / Math.max(1, countLines(buf, i, last)));
        const expectedRows = Math.ceil((1.05 * size) / lineBytes);
        numbers = plan.map((c) => (c.readAs === 'number' || c.readAs === 'integer' ? new NumberColumn(expectedRows) : null));
      }
      while (i <= last) {
        for (let f = 0; f < ncols; f++) {
          const s = slot[f] as number;
          let c = buf[i] as number;
          if (s < 0) {
            while (c !== DELIM && c !== LF) {
              if (c === QUOTE) throw new Unsupported('quoted field');
              c = buf[++i] as number;
            }
          } else if (c === DELIM || c === LF || (c === CR && buf[i + 1] === LF)) {
            const num = numbers[s];
            if (num) num.nulls++;
            else textNulls[s] = (textNulls[s] as number) + 1;
          } else if (kind[s] === 2) {
            const start = i;
            while (c !== DELIM && c !== LF) {
              if (c === QUOTE) throw new Unsupported('quoted field');
              c = buf[++i] as number;
            }
            const stop = c === LF && buf[i - 1] === CR ? i - 1 : i;
            const key = buf.toString('utf8', start, stop);
            const map = texts[s] as Map<string, number>;
            map.set(key, (map.get(key) ?? 0) + 1);
          } else {
            const start = i;
            let neg = false;
            if (c === MINUS) {
              neg = true;
              c = buf[++i] as number;
            }
            let m = 0;
            let digits = 0;
            while (c >= 48 && c <= 57) {
              m = m * 10 + (c - 48);
              digits++;
              c = buf[++i] as number;
            }
            let scale = 0;
            if (c === DOT && digits > 0 && kind[s] !== 1) {
              c = buf[++i] as number;
              while (c >= 48 && c <= 57) {
                m = m * 10 + (c - 48);
                scale++;
                c = buf[++i] as number;
              }
              if (scale === 0) throw new Unsupported('number ends with a dot');
              digits += scale;
            }
            let exact = digits > 0 && digits <= 15;
            if ((c === 101 || c === 69) && digits > 0 && kind[s] !== 1) {
              // Scientific notation (pandas writes small floats as 1.3e-05): fold the exponent
              // into the decimal scale while the value stays an exact integer over a power of ten.
              c = buf[++i] as number;
              const negExp = c === MINUS;
              if (c === MINUS || c === 43) c = buf[++i] as number;
              let e = 0;
              let expDigits = 0;
              while (c >= 48 && c <= 57) {
                e = e * 10 + (c - 48);
                expDigits++;
                c = buf[++i] as number;
              }
              if (expDigits === 0 || expDigits > 3) throw new Unsupported('not a plain decimal number');
              scale += negExp ? e : -e;
              if (scale < 0) {
                m *= POW10[-scale] ?? Infinity;
                scale = 0;
                if (!(m < MAX_EXACT)) exact = false;
              } else if (scale > 22) exact = false;
            }
            if (digits === 0 || (c !== DELIM && c !== LF && c !== CR)) throw new Unsupported('not a plain decimal number');
            const num = numbers[s];
            if (num) {
              if (exact) num.add(neg ? -m : m, scale);
              else num.addDouble(Number(buf.toString('latin1', start, i)));
            } else {
              // A number read as a category: keyed by its value, as DuckDB's path does.
              const v = exact ? (neg ? -m : m) / (POW10[scale] as number) : Number(buf.toString('latin1', start, i));
              const key = String(v);
              const map = texts[s] as Map<string, number>;
              map.set(key, (map.get(key) ?? 0) + 1);
            }
          }
          c = buf[i] as number;
          if (f < ncols - 1) {
            if (c !== DELIM) throw new Unsupported('a line has fewer fields than the header');
          } else {
            if (c === CR) c = buf[++i] as number;
            if (c !== LF) throw new Unsupported('a line has more fields than the header');
          }
          i++;
        }
        rows++;
      }
      carry = end - (last + 1);
      buf.copy(buf, 0, last + 1, end);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (header) throw new Unsupported('empty file');
  // One spare array for the radix sorts, shared by the columns (allocating one per column would
  // first-touch as many pages again).
  let scratch = new Int32Array(0);
  return {
    rows,
    digest: `sha256:${hash.digest('hex')}`,
    columns: plan.map((_, s) => {
      const num = numbers[s];
      if (num) {
        if (scratch.length < num.length) scratch = new Int32Array(num.length);
        return { kind: 'numeric' as const, sample: num.finish(scratch), nulls: num.nulls };
      }
      return { kind: 'categorical' as const, entries: [...(texts[s] as Map<string, number>)], nulls: textNulls[s] as number };
    }),
  };
}

/** Checks the header line against DuckDB's column names; returns where the data starts, or 0. */
function checkHeader(buf: Buffer, last: number, delim: number, names: readonly string[]): number {
  let i = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) i = 3; // UTF-8 byte order mark
  let end = i;
  while (end <= last && buf[end] !== LF) end++;
  let lineEnd = end;
  if (lineEnd > i && buf[lineEnd - 1] === CR) lineEnd--;
  const line = buf.toString('utf8', i, lineEnd);
  if (line.includes('"')) return 0;
  const fields = line.split(String.fromCharCode(delim));
  if (fields.length !== names.length || fields.some((f, k) => f !== names[k])) return 0;
  return end + 1;
}

function countLines(buf: Buffer, from: number, last: number): number {
  let n = 0;
  for (let i = from; i <= last; i++) if (buf[i] === LF) n++;
  return n;
}

/** The part of a file already hashed: its first `bytes` bytes went into `hash`. */
interface Prehashed {
  readonly hash: Hash;
  readonly bytes: number;
}

const WORKER_FLAG = 'tollgate-drift-csv-parser';

/**
 * A worker's life: it starts before DuckDB has sniffed the file, and hashes the file from the
 * start until the job arrives (the sniff takes a good part of a second, which would otherwise
 * leave a core idle). Then it parses, hashing only the bytes it has not hashed yet, and posts the
 * result; or it is told to stop because DuckDB will read the file.
 */
function parserWorker(port: MessagePort, file: string): void {
  type Message = { job?: ParseJob; stop?: true };
  const hash = createHash('sha256');
  let bytes = 0;
  let msg = receiveMessageOnPort(port)?.message as Message | undefined;
  if (!msg) {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    try {
      while (!msg) {
        const got = fs.readSync(fd, buf, 0, buf.length, null);
        if (got === 0) break;
        hash.update(buf.subarray(0, got));
        bytes += got;
        msg = receiveMessageOnPort(port)?.message as Message | undefined;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  const go = (m: Message) => {
    if (!m.job) return;
    try {
      const parsed = parsePlainCsv(m.job, { hash, bytes });
      const transfer: ArrayBuffer[] = [];
      for (const c of parsed.columns) {
        if (c.kind === 'numeric') {
          transfer.push(c.sample.values.buffer as ArrayBuffer);
          if (c.sample.counts) transfer.push(c.sample.counts.buffer as ArrayBuffer);
        }
      }
      port.postMessage({ ok: parsed }, transfer);
    } catch (err) {
      port.postMessage(err instanceof Unsupported ? { unsupported: err.message } : { failed: (err as Error).message });
    }
  };
  if (msg) go(msg);
  else port.once('message', go);
}

// When this module is a worker's entry point, it serves the one file it was started for.
if (!isMainThread && (workerData as { flag?: unknown } | null)?.flag === WORKER_FLAG) {
  const { port, file } = workerData as { port: MessagePort; file: string };
  parserWorker(port, file);
}

/** Below this size a worker costs more than it saves. */
const WORKER_MIN_BYTES = 8 << 20;

/** A CSV parser for one file, started early; `run` gives it the job, `stop` lets it go. */
interface Parser {
  run(job: ParseJob): Promise<ParsedFile>;
  stop(): void;
}

/**
 * Starts a parser for a file: a worker thread when this module runs as JavaScript (built) and the
 * file is big enough, inline otherwise (vitest runs the TypeScript source, which a worker cannot
 * load; a small file is not worth a thread).
 */
function startParser(file: string, signal: AbortSignal): Parser {
  let size = 0;
  try {
    size = fs.statSync(file).size;
  } catch {
    // Unreadable: the caller reports it; the inline parser would throw the same.
  }
  if (import.meta.url.endsWith('.ts') || size < WORKER_MIN_BYTES) {
    return { run: (job) => Promise.resolve().then(() => parsePlainCsv(job)), stop: () => {} };
  }
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL(import.meta.url), { workerData: { flag: WORKER_FLAG, port: port2, file }, transferList: [port2] });
  const stop = () => {
    port1.close();
    void worker.terminate();
  };
  signal.addEventListener('abort', stop, { once: true });
  const result = new Promise<ParsedFile>((resolve, reject) => {
    const settle = (msg: { ok?: ParsedFile; unsupported?: string; failed?: string }) => {
      if (msg.ok) resolve(msg.ok);
      else if (msg.unsupported !== undefined) reject(new Unsupported(msg.unsupported));
      else reject(new Error(msg.failed));
    };
    port1.once('message', settle);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      // The worker's last message may still be queued on the port when 'exit' arrives.
      const pending = receiveMessageOnPort(port1);
      if (pending) settle(pending.message as { ok?: ParsedFile });
      else reject(new Error(signal.aborted ? 'cancelled' : `CSV parser stopped (exit code ${code})`));
    });
  });
  result.catch(() => {}); // stopped without being run: nobody waits for it
  return {
    run(job) {
      port1.postMessage({ job });
      return result.finally(() => {
        signal.removeEventListener('abort', stop);
        port1.close();
        void worker.terminate();
      });
    },
    stop() {
      signal.removeEventListener('abort', stop);
      port1.postMessage({ stop: true });
      stop();
    },
  };
}

function fromParsed(parsed: ParsedFile, plan: readonly PlannedColumn[]): FileData {
  const columns = new Map<string, ColumnData>();
  parsed.columns.forEach((c, i) => {
    const name = (plan[i] as PlannedColumn).name;
    if (c.kind === 'numeric') columns.set(name, { kind: 'numeric', sample: c.sample, nulls: c.nulls });
    else columns.set(name, { kind: 'categorical', counts: new Map(c.entries), nulls: c.nulls });
  });
  return { rows: parsed.rows, digest: parsed.digest, columns, engine: 'csv-parser' };
}

// ---------------------------------------------------------------------------------------------
// The validator
// ---------------------------------------------------------------------------------------------

/** Options for tests and benchmarks; a policy cannot set them. */
export interface DriftRunOptions {
  /** `auto` (default): the fast CSV parser where it applies; `duckdb`: DuckDB for every file. */
  readonly engine?: 'auto' | 'duckdb';
}

/** Runs a drift validation; {@link driftValidator}'s `run`, with options for tests and benchmarks. */
export async function runDrift(args: DriftArgs, ctx: ValidatorContext, options: DriftRunOptions = {}): Promise<ValidatorOutcome> {
  const started = Date.now();
  const paths = { reference: resolveInput(ctx.baseDir, args.reference), current: resolveInput(ctx.baseDir, args.current) };
  const inputs: Record<string, Digest> = {};
  for (const [role, file] of Object.entries(paths)) {
    try {
      await fs.promises.access(file, fs.constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return errored(`${role} ${code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot read (${code})`}`, inputs);
    }
  }
  let db: DuckDb | undefined;
  let duck: DuckModule | undefined;
  // CSV parsers start now, in parallel with loading DuckDB and sniffing (see parserWorker); one
  // that turns out not to be needed is stopped in `finally`.
  const fast = (options.engine ?? 'auto') === 'auto';
  const isPlainCsvName = (f: string) => /\.(csv|tsv)$/i.test(f);
  const parsers: Partial<Record<'reference' | 'current', Parser>> = {};
  for (const role of ['reference', 'current'] as const) if (fast && isPlainCsvName(paths[role])) parsers[role] = startParser(paths[role], ctx.signal);
  try {
    duck = await import('./duckdb.js');
    db = await duck.openDuckDb(ctx.signal);
    const schemas = {} as Record<'reference' | 'current', FileSchema>;
    for (const role of ['reference', 'current'] as const) {
      try {
        schemas[role] = await readSchema(duck, db, paths[role]);
      } catch (err) {
        const what = err instanceof InputError ? err.message : duck.duckDbMessage(err);
        return errored(`cannot read ${role} ${args[role]}: ${what}`, await digestsOf(paths, args));
      }
    }
    const ref = schemas.reference;
    const cur = schemas.current;
    const columns = args.columns ?? ref.names.filter((n) => cur.types.has(n));
    if (columns.length === 0) {
      return errored(`${args.reference} and ${args.current} have no column in common`, await digestsOf(paths, args));
    }
    for (const name of columns) {
      for (const [role, schema] of [['reference', ref], ['current', cur]] as const) {
        if (!schema.types.has(name)) {
          return errored(`column ${name} is not in ${role} ${args[role]} (it has ${schema.names.join(', ')})`, await digestsOf(paths, args));
        }
      }
    }
    for (const [field, names] of [['categorical', args.categorical ?? []], ['perColumn', Object.keys(args.perColumn ?? {})]] as const) {
      const stray = names.filter((n) => !columns.includes(n));
      if (stray.length > 0) {
        return errored(`${field} names ${stray.join(', ')}, which is not among the compared columns`, await digestsOf(paths, args));
      }
    }
    const forced = new Set(args.categorical ?? []);
    const numericIn = (schema: FileSchema, n: string) => isNumericType(schema.types.get(n) ?? '');
    const kinds = new Map(columns.map((n) => [n, !forced.has(n) && numericIn(ref, n) && numericIn(cur, n) ? 'numeric' : 'categorical'] as const));

    const schemaDone = Date.now();
    ctx.progress({ message: `reading ${columns.length} columns` });
    const read = async (role: 'reference' | 'current'): Promise<FileData> => {
      const schema = schemas[role];
      const plan: PlannedColumn[] = columns.map((name) => {
        const type = (schema.types.get(name) ?? '').toUpperCase();
        const numeric = isNumericType(type);
        const readAs: ReadAs = kinds.get(name) === 'numeric' ? (INTEGER_TYPE.test(type) ? 'integer' : 'number') : numeric ? 'number-as-text' : 'text';
        return { name, index: schema.names.indexOf(name), readAs };
      });
      let reason: string | undefined;
      const parsable = plan.every((c) => c.readAs !== 'text' || (schema.types.get(c.name) ?? '').toUpperCase() === 'VARCHAR');
      const parser = parsers[role];
      delete parsers[role];
      if (parser && schema.csv && parsable) {
        try {
          const parsed = await parser.run({ file: paths[role], delimiter: schema.csv.delimiter, names: schema.names, plan });
          return fromParsed(parsed, plan);
        } catch (err) {
          if (!(err instanceof Unsupported)) throw err;
          reason = err.message;
        }
      } else {
        parser?.stop();
      }
      const digest = await digestFile(paths[role]);
      return readWithDuckDb(duck as DuckModule, db as DuckDb, paths[role], plan, digest, reason);
    };
    // The two files are parsed at the same time (one worker each); DuckDB reads run one at a time.
    const [refData, curData] = await Promise.all([read('reference'), read('current')]);
    const readDone = Date.now();
    inputs[args.reference] = refData.digest;
    inputs[args.current] = curData.digest;
    if (ctx.signal.aborted) return errored('cancelled', inputs);
    ctx.progress({ rows: refData.rows + curData.rows, message: 'comparing' });

    const measured: Record<string, ColumnMeasurement> = {};
    const verdicts: Verdict[] = [];
    // The shares per bin (the PSI bins of a numeric column, the categories of a categorical one):
    // what the report draws, reference against current.
    const bins: Record<string, { bins: DistributionBins }> = {};
    for (const name of columns) {
      const r = refData.columns.get(name) as ColumnData;
      const c = curData.columns.get(name) as ColumnData;
      const counts = {
        n_reference: r.kind === 'numeric' ? r.sample.n : sum(r.counts.values()),
        n_current: c.kind === 'numeric' ? c.sample.n : sum(c.counts.values()),
        nulls_reference: r.nulls,
        nulls_current: c.nulls,
      };
      for (const [role, n, rows] of [['reference', counts.n_reference, refData.rows], ['current', counts.n_current, curData.rows]] as const) {
        if (n === 0) return errored(`column ${name} has no values in ${role} ${args[role]} (${rows} rows, all null)`, inputs);
      }
      const m: ColumnMeasurement =
        r.kind === 'numeric' && c.kind === 'numeric'
          ? { kind: 'numeric', ...measureNumeric(r.sample, c.sample), ...counts }
          : { kind: 'categorical', ...measureCategorical(asCounts(r), asCounts(c)), ...counts };
      measured[name] = m;
      bins[name] = r.kind === 'numeric' && c.kind === 'numeric' ? numericBins(r.sample, c.sample) : categoricalBins(asCounts(r), asCounts(c));
      verdicts.push(...judgeColumn(name, m, rulesFor(args, name)));
    }

    const broken = verdicts.filter(isBroken).sort((a, b) => b.severity - a.severity);
    const closest = [...verdicts].sort((a, b) => b.severity - a.severity)[0];
    let summary: string;
    if (broken.length > 0) {
      const worst = broken[0] as Verdict;
      const more = broken.length - 1;
      const others = broken.slice(1, 4).map((v) => `${v.metric} on ${v.column}`).join(', ') + (more > 3 ? ', …' : '');
      summary = describe(worst) + (more > 0 ? ` (and ${more} more: ${others})` : '');
    } else if (closest) {
      const near = `${closest.metric} ${formatNumber(closest.value)} vs ${closest.bound} ${formatNumber(closest.limit)} on ${closest.column}`;
      summary = `no drift beyond thresholds on ${plural(columns.length, 'column')}; closest: ${near}`;
    } else {
      summary = `measured ${plural(columns.length, 'column')}; no thresholds set`;
    }
    return {
      status: broken.length > 0 ? 'failed' : 'passed',
      summary,
      measurements: { reference_rows: refData.rows, current_rows: curData.rows, columns: measured },
      thresholds: {
        ...(args.psi ? { psi: args.psi } : {}),
        ...(args.ks ? { ks: args.ks } : {}),
        ...(args.chi2 ? { chi2: args.chi2 } : {}),
        ...(args.perColumn ? { perColumn: args.perColumn } : {}),
      },
      inputs,
      details: {
        violations: broken.map((v) => ({ column: v.column, metric: v.metric, value: v.value, op: v.op, limit: v.limit })),
        columns: bins,
        engine: { reference: refData.engine, current: curData.engine },
        ...(refData.fallbackReason || curData.fallbackReason
          ? {
              fallback: {
                ...(refData.fallbackReason ? { reference: refData.fallbackReason } : {}),
                ...(curData.fallbackReason ? { current: curData.fallbackReason } : {}),
              },
            }
          : {}),
        seconds: (Date.now() - started) / 1000,
        // Where the time went: schema (DuckDB sniffing), reading (parse or scan), comparing.
        timings: {
          schema: (schemaDone - started) / 1000,
          read: (readDone - schemaDone) / 1000,
          compare: (Date.now() - readDone) / 1000,
        },
      },
    };
  } catch (err) {
    if (ctx.signal.aborted) return errored('cancelled', inputs);
    const message = err instanceof InputError || !duck ? (err as Error).message : duck.duckDbMessage(err);
    return errored(`drift could not run: ${message}`, Object.keys(inputs).length > 0 ? inputs : await digestsOf(paths, args).catch(() => ({})));
  } finally {
    for (const parser of Object.values(parsers)) parser.stop();
    db?.close();
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function asCounts(d: ColumnData): Map<string, number> {
  if (d.kind === 'categorical') return d.counts;
  // A column numeric in one file and text in the other: both sides become categories.
  const out = new Map<string, number>();
  const { values, counts } = d.sample;
  values.forEach((v, i) => out.set(String(v), (out.get(String(v)) ?? 0) + (counts ? (counts[i] as number) : 1)));
  return out;
}

async function digestsOf(paths: { reference: string; current: string }, args: DriftArgs): Promise<Record<string, Digest>> {
  const out: Record<string, Digest> = {};
  for (const role of ['reference', 'current'] as const) {
    try {
      out[args[role]] = await digestFile(paths[role]);
    } catch {
      // An unreadable file is already what the result says; its digest is simply absent.
    }
  }
  return out;
}

/** The `drift` validator: per-column KS, PSI and chi-square between a reference and a current dataset. */
export const driftValidator: Validator<DriftArgs> = {
  name: 'drift',
  version: '1',
  schema: driftArgsSchema,
  run: (args, ctx) => runDrift(args, ctx),
};
