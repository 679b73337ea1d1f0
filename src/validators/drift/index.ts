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
 * counts, so each file is reduced, in one pass, to a `SortedSample` per column; the two are
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
 *
 * ## Where the pieces are
 * `drift-args.ts` the `with` block; `measurements.ts` the statistics of a column and their
 * judgement (pure); `file-data.ts` what either reader gives back; `duckdb-reader.ts` sniffing and
 * the DuckDB path; `csv-parser.ts` (with `number-column.ts`) the fast parser; `csv-parser-start.ts`
 * chooses a worker thread or inline, and `csv-worker.ts` is the worker's entry; `drift-validator.ts`
 * runs it all. The statistics themselves are in `src/stats/`.
 */
export { driftArgsSchema, type DriftArgs } from './drift-args.js';
export { driftValidator, runDrift, type DriftRunOptions } from './drift-validator.js';
export {
  categoricalBins,
  formatNumber,
  isBroken,
  judgeColumn,
  measureCategorical,
  measureNumeric,
  numericBins,
  rulesFor,
  type ColumnMeasurement,
  type DistributionBins,
  type Verdict,
} from './measurements.js';
export { isNumericType } from './duckdb-reader.js';
export { parsePlainCsv } from './csv-parser.js';
export { startParser, WORKER_MIN_BYTES, type Parser, type ParserOptions } from './csv-parser-start.js';
