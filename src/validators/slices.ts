/**
 * `slices`: model performance across subgroups (regions, sex × age band, clinical cohorts), from a
 * predictions file (CSV or Parquet) with one row per example.
 *
 * ```yaml
 * - id: fairness
 *   uses: slices
 *   with:
 *     predictions: eval/predictions.parquet
 *     group: [sex, age_band]            # one column, or several
 *     mode: intersectional              # each combination is a slice (default); per-attribute: each column on its own
 *     score: score                      # optional: probability of the positive class, for ECE
 *     positive: 1                       # the positive class (default 1); a number, string or boolean
 *     minSupport: 30                    # slices with fewer rows are reported, not judged (default 30)
 *     failOnUnsupported: false          # true: a slice below minSupport fails the validation
 *     thresholds:
 *       recall: { min: 0.7 }
 *       ece: { max: 0.1 }
 *       gap: { recall: { max: 0.1 } }
 *     baseline:                         # the same slices of the model in production, say
 *       predictions: eval/baseline-predictions.parquet
 *       maxDrop: { recall: 0.05 }       # per slice; for ece the largest rise
 * ```
 *
 * Slices: with `mode: intersectional` each combination of the group columns' values that occurs is
 * a slice (`sex=F, age_band=40+`), and each combination that does not occur is reported as a slice
 * of 0 rows; with `mode: per-attribute` each column's values are sliced on their own (`sex=F`,
 * `age_band=40+`), and a gap is measured between the values of one column. With one group column
 * the two modes are the same, and a slice is named by its value alone (`EU`).
 *
 * Per slice, computed in DuckDB with GROUP BY:
 * - accuracy: share of rows where prediction equals label (multi-class labels compare as classes);
 * - recall and precision of the positive class (null when the slice has no positive label, or no
 *   positive prediction: such a slice is not judged on that metric);
 * - ECE, expected calibration error: the scores are cut into 10 equal-width bins over [0, 1]
 *   (a score of exactly 1 falls in the last), and ECE = Σ over bins (rows in bin / rows) ×
 *   |share of positive labels in bin − mean score in bin|. Needs `score`; rows with no score are
 *   left out of ECE only.
 * - the gap per metric: the best judged slice minus the worst (per-attribute: the largest such gap
 *   among the values of one column).
 *
 * Labels and predictions are compared as classes: `1`, `1.0`, `true` and `t` are the same class,
 * and so are `0`, `0.0`, `false` and `f`; other text compares as written. Rows without a label or a
 * prediction are left out and counted (`excludedRows`).
 *
 * Slices below `minSupport` are never dropped silently: each is listed with its rows in
 * `details.unsupported` and in the summary, and `failOnUnsupported: true` fails on them.
 *
 * `baseline` reads a second predictions file (the same columns; the baseline model's predictions
 * on the same evaluation set) and measures the same slices in it. A slice judged in both whose
 * metric fell by more than `maxDrop` (ECE: rose) fails.
 *
 * `failed` when a judged slice is below a `min` or above a `max`, a gap is above its `max`, a
 * slice dropped more than `maxDrop` from the baseline, or (with `failOnUnsupported`) a slice is
 * below `minSupport`; the summary names the worst slice. `errored` when a file or a column is
 * missing, a score is not a probability, no label is the positive class while recall or precision
 * is judged, or too few slices reach `minSupport` to judge a threshold.
 */
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { dataFormatOf, DATA_EXTENSIONS, duckDbMessage, openDuckDb, quoteIdent, quoteLiteral, readFileSql, type DuckDb, type Row } from './duckdb.js';
import { digestFile, InputError, resolveInput } from './inputs.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';

/** ECE's bins: ten equal-width bins over [0, 1], the common choice (Guo et al., 2017). */
export const ECE_BINS = 10;

/** How many slices below minSupport `details.unsupported` lists; `unsupportedCount` counts them all. */
export const UNSUPPORTED_LISTED = 1000;

/** How many the summary names before "and N more". */
const SUMMARY_LISTED = 10;

/**
 * Empty intersections are found by crossing each column's values; past this many combinations
 * only their number is reported (listing them would cost more than the check is worth).
 */
const MAX_CROSS = 100_000;

/**
 * A drop is compared with `maxDrop` to within this much: a drop is a difference of two ratios,
 * and 0.8 − 0.7 is 0.10000000000000009 in doubles, which must not fail `maxDrop: 0.1`.
 */
const DROP_TOLERANCE = 1e-9;

// ---------------------------------------------------------------- with

const rate = (what: string) =>
  z
    .number({ error: `${what} must be a number from 0 to 1` })
    .min(0, { error: `${what} must be at least 0` })
    .max(1, { error: `${what} must be at most 1` });
const takes = (what: string, bound: 'min' | 'max') => (iss: { code?: string; keys?: readonly string[] }) =>
  iss.code === 'unrecognized_keys' ? `${what} takes { ${bound}: NUMBER }, not ${iss.keys!.join(', ')}` : `${what} takes { ${bound}: NUMBER }`;
const atLeast = (what: string) => z.strictObject({ min: rate(`${what}.min`).describe('The lowest value allowed, from 0 to 1.') }, { error: takes(what, 'min') });
const atMost = (what: string) => z.strictObject({ max: rate(`${what}.max`).describe('The highest value allowed, from 0 to 1.') }, { error: takes(what, 'max') });
const column = (what: string) => z.string({ error: `${what} must be a column name` }).min(1, { error: `${what} must not be empty` });
const dataFile = (what: string) =>
  z
    .string({ error: `${what} must be the path of a CSV or Parquet file` })
    .min(1, { error: `${what} must not be empty` })
    .refine((p) => dataFormatOf(p) !== undefined, { error: `${what} must be a file ending in ${DATA_EXTENSIONS.join(', ')}` });

const ThresholdsSchema = z
  .strictObject({
    accuracy: atLeast('accuracy').optional().describe('Every judged group\'s accuracy is at least { min }.'),
    recall: atLeast('recall').optional().describe('Every judged group\'s recall is at least { min }.'),
    precision: atLeast('precision').optional().describe('Every judged group\'s precision is at least { min }.'),
    ece: atMost('ece').optional().describe('Every judged group\'s expected calibration error (10 equal-width score bins) is at most { max }; needs score.'),
    gap: z
      .strictObject({ accuracy: atMost('gap.accuracy').optional().describe('The largest accuracy gap between groups: { max }.'), recall: atMost('gap.recall').optional().describe('The largest recall gap between groups: { max }.'), precision: atMost('gap.precision').optional().describe('The largest precision gap between groups: { max }.') })
      .optional()
      .describe('The largest difference between groups: accuracy, recall, precision, each at most { max }.'),
  })
  .refine((t) => t.accuracy ?? t.recall ?? t.precision ?? t.ece ?? t.gap?.accuracy ?? t.gap?.recall ?? t.gap?.precision, {
    error: 'thresholds must set at least one of accuracy, recall, precision, ece or gap',
  });

const MAX_DROP_SHAPE = 'baseline.maxDrop takes the largest drop allowed per metric, e.g. { recall: 0.05 } (accuracy, recall, precision, ece)';

const MaxDropSchema = z
  .strictObject(
    {
      accuracy: rate('baseline.maxDrop.accuracy').optional().describe('The largest drop in a slice’s accuracy allowed against the baseline, 0 to 1.'),
      recall: rate('baseline.maxDrop.recall').optional().describe('The largest drop in a slice’s recall allowed against the baseline, 0 to 1.'),
      precision: rate('baseline.maxDrop.precision').optional().describe('The largest drop in a slice’s precision allowed against the baseline, 0 to 1.'),
      ece: rate('baseline.maxDrop.ece').optional().describe('The largest rise in a slice’s expected calibration error allowed against the baseline, 0 to 1.'),
    },
    { error: MAX_DROP_SHAPE },
  )
  .refine((d) => d.accuracy ?? d.recall ?? d.precision ?? d.ece, { error: 'baseline.maxDrop must set at least one of accuracy, recall, precision or ece' });

const BaselineSchema = z.strictObject(
  {
    predictions: dataFile('baseline.predictions').describe('The baseline model’s predictions file (CSV or Parquet), or artifact:NAME, with the same columns.'),
    maxDrop: MaxDropSchema.describe('The largest drop allowed per metric and slice, e.g. { recall: 0.05 }.'),
  },
  { error: 'baseline takes { predictions: FILE, maxDrop: { METRIC: NUMBER } }: the baseline model’s predictions file and the largest drop allowed per slice' },
);

/** How the group columns make slices; see the module comment. */
export const SLICE_MODES = ['intersectional', 'per-attribute'] as const;
export type SliceMode = (typeof SLICE_MODES)[number];

const SlicesArgsSchema = z
  .strictObject({
    predictions: dataFile('predictions').describe('The predictions file (CSV or Parquet), one row per example, or artifact:NAME.'),
    label: column('label').default('label').describe('The column with the true class (default label).'),
    prediction: column('prediction').default('prediction').describe('The column with the predicted class (default prediction).'),
    score: column('score').optional().describe('The column with the probability of the positive class (needed for ece).'),
    group: z
      .union([column('group'), z.array(column('group')).min(1, { error: 'group must name at least one column' })], {
        error: 'group must be a column name or a list of them, e.g. region or [sex, age_band]',
      })
      .describe('The column, or list of columns, whose values make the slices, e.g. region or [sex, age_band].'),
    // Intersectional by default: what a list of group columns has always meant, so a policy written
    // before `mode` existed judges the same slices.
    mode: z
      .enum(SLICE_MODES, { error: 'mode must be intersectional (each combination of the group columns is a slice) or per-attribute (each column on its own)' })
      .default('intersectional')
      .describe('intersectional (default): each combination of the group columns is a slice; per-attribute: each column’s values on their own.'),
    positive: z.union([z.number(), z.string(), z.boolean()], { error: 'positive must be the positive class: a number, string or boolean' }).default(1).describe('The positive class (default 1).'),
    minSupport: z
      .number({ error: 'minSupport must be a whole number of rows' })
      .int({ error: 'minSupport must be a whole number of rows' })
      .min(1, { error: 'minSupport must be at least 1' })
      .default(30)
      .describe('Slices with fewer rows are not judged but reported as unsupported (default 30).'),
    failOnUnsupported: z.boolean({ error: 'failOnUnsupported must be true or false' }).default(false).describe('Fail when any slice has fewer rows than minSupport (default false: they are reported).'),
    thresholds: ThresholdsSchema.optional().describe('What every judged slice must meet: accuracy, recall, precision { min }, ece { max }, gap.{accuracy,recall,precision} { max }.'),
    baseline: BaselineSchema.optional().describe('Compare each slice with the same slice of the baseline model’s predictions: { predictions: FILE, maxDrop: { METRIC: NUMBER } }.'),
  })
  .superRefine((w, ctx) => {
    if (w.thresholds === undefined && w.baseline === undefined) {
      ctx.addIssue({ code: 'custom', path: ['thresholds'], message: 'set thresholds, baseline (with maxDrop), or both: otherwise nothing is judged' });
    }
    if (w.thresholds?.ece !== undefined && w.score === undefined) ctx.addIssue({ code: 'custom', path: ['thresholds', 'ece'], message: 'ece needs score: the column with the probability of the positive class' });
    if (w.baseline?.maxDrop.ece !== undefined && w.score === undefined) {
      ctx.addIssue({ code: 'custom', path: ['baseline', 'maxDrop', 'ece'], message: 'ece needs score: the column with the probability of the positive class' });
    }
    if (w.baseline !== undefined && w.baseline.predictions === w.predictions) {
      ctx.addIssue({ code: 'custom', path: ['baseline', 'predictions'], message: 'baseline.predictions is the predictions file itself; name the baseline model’s predictions' });
    }
    const groups = typeof w.group === 'string' ? [w.group] : w.group;
    for (const g of groups) {
      if (g === w.label || g === w.prediction || g === w.score) ctx.addIssue({ code: 'custom', path: ['group'], message: `group column ${g} is also the label, prediction or score column` });
    }
    if (new Set(groups).size !== groups.length) ctx.addIssue({ code: 'custom', path: ['group'], message: 'group names a column twice' });
  });

/** The `with` block of `slices`, after defaults. */
export type SlicesArgs = z.output<typeof SlicesArgsSchema>;
type Thresholds = z.output<typeof ThresholdsSchema>;

// ---------------------------------------------------------------- SQL

/** The metrics judged per slice. */
export const SLICE_METRICS = ['accuracy', 'recall', 'precision', 'ece'] as const;
export type SliceMetric = (typeof SLICE_METRICS)[number];

/** One slice's numbers, as kept in `measurements.groups`. */
export interface GroupMetrics {
  readonly n: number;
  readonly accuracy: number;
  readonly recall: number | null;
  readonly precision: number | null;
  /** Present when `score` is set; null when no row of the slice has a score. */
  readonly ece?: number | null;
  /** False when the slice has fewer than minSupport rows: reported, not judged. */
  readonly judged: boolean;
}

/** A slice below minSupport, as listed in `details.unsupported`. */
export interface UnsupportedSlice {
  readonly slice: string;
  readonly rows: number;
}

/** A class as comparable text: numbers and booleans in one spelling (`1.0`, `0.0`), other text as is. */
function classKey(textExpr: string): string {
  return `coalesce(CAST(TRY_CAST(${textExpr} AS DOUBLE) AS VARCHAR), CASE lower(${textExpr}) WHEN 'true' THEN '1.0' WHEN 't' THEN '1.0' WHEN 'false' THEN '0.0' WHEN 'f' THEN '0.0' END, ${textExpr})`;
}

const text = (col: string) => `CAST(${quoteIdent(col)} AS VARCHAR)`;

/**
 * The rows as the metrics read them: group keys `g0…`, label and prediction class keys, `y` and
 * `yhat` (positive or not), `correct`, and the score `s`.
 */
function markedSql(from: string, args: SlicesArgs, groups: readonly string[]): string {
  const positive = classKey(quoteLiteral(String(args.positive)));
  const columns = [
    ...groups.map((g, i) => `coalesce(${text(g)}, '(null)') AS g${i}`),
    `${classKey(text(args.label))} AS lk`,
    `${classKey(text(args.prediction))} AS pk`,
    args.score ? `TRY_CAST(${text(args.score)} AS DOUBLE) AS s` : 'CAST(NULL AS DOUBLE) AS s',
  ];
  const base = `SELECT ${columns.join(', ')} FROM ${from} AS src WHERE ${quoteIdent(args.label)} IS NOT NULL AND ${quoteIdent(args.prediction)} IS NOT NULL`;
  return `SELECT *, lk = pk AS correct, lk = ${positive} AS y, pk = ${positive} AS yhat FROM (${base}) AS base`;
}

/** `g0, g2`: the key columns of a family of slices (indexes into the group columns). */
const keysOf = (family: readonly number[]) => family.map((i) => `g${i}`);

/** Per slice of a family (or overall when it is empty) over the marked rows: n, accuracy, recall, precision. */
function metricsSql(marked: string, family: readonly number[]): string {
  const keys = keysOf(family);
  const by = keys.length === 0 ? '' : `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}`;
  return `SELECT ${[
    ...keys,
    'count(*) AS n',
    'avg(CASE WHEN correct THEN 1.0 ELSE 0.0 END) AS accuracy',
    'CASE WHEN count(*) FILTER (WHERE y) > 0 THEN count(*) FILTER (WHERE y AND yhat) / count(*) FILTER (WHERE y) END AS recall',
    'CASE WHEN count(*) FILTER (WHERE yhat) > 0 THEN count(*) FILTER (WHERE y AND yhat) / count(*) FILTER (WHERE yhat) END AS precision',
  ].join(', ')} FROM ${marked} ${by}`;
}

/** Per slice of a family (or overall): ECE over ECE_BINS equal-width bins of the score. */
function eceSql(marked: string, family: readonly number[]): string {
  const keys = keysOf(family);
  const binKeys = [...keys, 'bin'].join(', ');
  const by = keys.length === 0 ? '' : `GROUP BY ${keys.join(', ')}`;
  return `SELECT ${[...keys, 'sum(bn * abs(positives - confidence)) / sum(bn) AS ece'].join(', ')} FROM (
      SELECT ${binKeys}, count(*) AS bn, avg(CASE WHEN y THEN 1.0 ELSE 0.0 END) AS positives, avg(s) AS confidence
      FROM (SELECT *, least(floor(s * ${ECE_BINS}), ${ECE_BINS - 1}) AS bin FROM ${marked} WHERE s IS NOT NULL) AS scored
      GROUP BY ${binKeys}
    ) AS bins ${by}`;
}

/** A slice's name: the value alone with one group column, else `column=value, …`. */
function sliceName(row: Row, family: readonly number[], groups: readonly string[]): string {
  if (groups.length === 1) return String(row.g0);
  return family.map((i) => `${groups[i]}=${String(row[`g${i}`])}`).join(', ');
}

/** The families of slices a mode makes: one of every column together, or one per column. */
function familiesOf(mode: SliceMode, groups: readonly string[]): number[][] {
  const all = groups.map((_, i) => i);
  return mode === 'per-attribute' ? all.map((i) => [i]) : [all];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** One predictions file, measured. */
interface Measured {
  readonly total: number;
  readonly excluded: number;
  readonly slices: Record<string, GroupMetrics>;
  /** The slice names of each family, for the gaps. */
  readonly families: string[][];
  readonly overall: Omit<GroupMetrics, 'judged'>;
  /** Intersections of values that occur in no row (intersectional, two columns or more). */
  readonly empty: { readonly count: number; readonly listed: readonly string[] };
}

/**
 * Measures every slice of one predictions file into the temp table `table`. Throws InputError
 * when the file, a column or the positive class is missing, or a score is not a probability.
 */
async function measure(db: DuckDb, file: string, source: string, table: string, args: SlicesArgs, groups: readonly string[], judgesPositives: boolean, onRows: (rows: number) => void): Promise<Measured> {
  const query = async (sql: string) => {
    try {
      return await db.all(sql);
    } catch (err) {
      throw new InputError(`${source}: ${duckDbMessage(err)}`);
    }
  };

  let columns: string[];
  try {
    columns = (await db.all(`DESCRIBE SELECT * FROM ${readFileSql(file)}`)).map((r) => String(r.column_name));
  } catch (err) {
    throw new InputError(`${source}: cannot read as ${dataFormatOf(file) === 'parquet' ? 'Parquet' : 'CSV'}: ${duckDbMessage(err)}`);
  }
  const used = [args.label, args.prediction, ...(args.score ? [args.score] : []), ...groups];
  const absent = used.filter((c) => !columns.includes(c));
  if (absent.length > 0) {
    throw new InputError(`${source} has no column ${absent.map((c) => JSON.stringify(c)).join(', ')} (columns: ${columns.join(', ')})`);
  }
  // The columns read are pinned to text in a CSV: the sniffer guesses types from a sample, and a
  // value after the sample that does not fit would abort the scan. Every metric casts itself.
  const from = readFileSql(file, dataFormatOf(file) === 'csv' ? { types: Object.fromEntries(used.map((c) => [c, 'VARCHAR'])) } : {});
  // One scan of the file into the few columns the metrics read; every query below reads that.
  await query(`CREATE TEMP TABLE ${table} AS ${markedSql(from, args, groups)}`);

  const [counts = {}] = await query(
    `SELECT count(*) AS total,
       count(*) FILTER (WHERE ${quoteIdent(args.label)} IS NULL OR ${quoteIdent(args.prediction)} IS NULL) AS excluded,
       ${args.score ? `count(*) FILTER (WHERE ${quoteIdent(args.score)} IS NOT NULL AND NOT coalesce(TRY_CAST(${text(args.score)} AS DOUBLE) BETWEEN 0 AND 1, FALSE))` : '0'} AS bad_scores
     FROM ${from} AS src`,
  );
  const total = Number(counts.total);
  const excluded = Number(counts.excluded);
  onRows(total);
  if (Number(counts.bad_scores) > 0) {
    const [first] = await query(
      `SELECT ${text(args.score!)} AS v FROM ${from} AS src WHERE ${quoteIdent(args.score!)} IS NOT NULL AND NOT coalesce(TRY_CAST(${text(args.score!)} AS DOUBLE) BETWEEN 0 AND 1, FALSE) LIMIT 1`,
    );
    throw new InputError(`${source}: ${counts.bad_scores} value(s) of ${args.score} are not probabilities from 0 to 1 (first: ${String(first?.v)})`);
  }
  if (total - excluded === 0) throw new InputError(`${source}: no row has both a ${args.label} and a ${args.prediction}`);

  const [overallRow = {}] = await query(metricsSql(table, []));
  if (judgesPositives && overallRow.recall === null) {
    const labels = (await query(`SELECT DISTINCT ${text(args.label)} AS v FROM ${from} AS src WHERE ${quoteIdent(args.label)} IS NOT NULL ORDER BY 1 LIMIT 5`)).map((r) => String(r.v));
    throw new InputError(`${source}: no ${args.label} is the positive class ${JSON.stringify(args.positive)} (labels: ${labels.join(', ')}); set positive`);
  }
  const overall = {
    n: Number(overallRow.n),
    accuracy: Number(overallRow.accuracy),
    recall: num(overallRow.recall),
    precision: num(overallRow.precision),
    ...(args.score ? { ece: num((await query(eceSql(table, [])))[0]?.ece) } : {}),
  };

  const slices: Record<string, GroupMetrics> = {};
  const families: string[][] = [];
  for (const family of familiesOf(args.mode, groups)) {
    const eceRows = args.score ? await query(eceSql(table, family)) : [];
    const eceBySlice = new Map(eceRows.map((r) => [sliceName(r, family, groups), num(r.ece)]));
    const names: string[] = [];
    for (const r of await query(metricsSql(table, family))) {
      const name = sliceName(r, family, groups);
      const n = Number(r.n);
      slices[name] = {
        n,
        accuracy: Number(r.accuracy),
        recall: num(r.recall),
        precision: num(r.precision),
        ...(args.score ? { ece: eceBySlice.get(name) ?? null } : {}),
        judged: n >= args.minSupport,
      };
      names.push(name);
    }
    families.push(names);
  }

  // An intersection no row falls in is a slice of 0 rows: the model was never evaluated on it,
  // which is the case `minSupport` exists to bring to light (issue 13).
  let empty: Measured['empty'] = { count: 0, listed: [] };
  if (args.mode === 'intersectional' && groups.length > 1) {
    const all = groups.map((_, i) => i);
    const [distinct = {}] = await query(`SELECT ${all.map((i) => `count(DISTINCT g${i}) AS d${i}`).join(', ')} FROM ${table}`);
    const cross = all.reduce((product, i) => product * Number(distinct[`d${i}`]), 1);
    const count = cross - families[0]!.length;
    if (count > 0) {
      const keys = keysOf(all).join(', ');
      const listed =
        cross > MAX_CROSS
          ? []
          : (
              await query(
                `SELECT * FROM (SELECT * FROM ${all.map((i) => `(SELECT DISTINCT g${i} FROM ${table}) AS d${i}`).join(' CROSS JOIN ')} EXCEPT SELECT ${keys} FROM ${table}) AS missing ORDER BY ${keys} LIMIT ${UNSUPPORTED_LISTED}`,
              )
            ).map((r) => sliceName(r, all, groups));
      empty = { count, listed };
    }
  }
  return { total, excluded, slices, families, overall, empty };
}

// ---------------------------------------------------------------- judging

/** A threshold a slice or a gap did not meet, as kept in `details.failures`. */
export type SliceFailure =
  | {
      readonly metric: SliceMetric;
      readonly kind: 'min' | 'max' | 'gap';
      readonly threshold: number;
      readonly value: number;
      /** The slice, for min and max; the worst of the pair, for a gap. */
      readonly group: string;
      readonly best?: string;
    }
  | {
      readonly metric: SliceMetric;
      /** The slice's metric fell (ece: rose) from the baseline's by more than `maxDrop`. */
      readonly kind: 'drop';
      readonly threshold: number;
      /** The drop (ece: the rise). */
      readonly value: number;
      readonly group: string;
      readonly baseline: number;
      readonly current: number;
    }
  | {
      /** A slice below minSupport, with `failOnUnsupported`. */
      readonly kind: 'unsupported';
      readonly threshold: number;
      /** Its rows. */
      readonly value: number;
      readonly group: string;
    };

/** The spread of one metric over the judged slices. */
export interface Gap {
  readonly gap: number;
  readonly best: string;
  readonly worst: string;
}

/** A number for a summary, with as many decimals as it takes to differ from its threshold. */
function fmt(value: number, threshold?: number): string {
  for (let digits = 4; digits <= 12; digits++) {
    const t = String(Number(value.toFixed(digits)));
    if (threshold === undefined || value === threshold || t !== String(Number(threshold.toFixed(digits)))) return t;
  }
  return String(value);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** ece is better low, the others high. */
const higherIsBetter = (m: SliceMetric) => m !== 'ece';

/** The largest gap per metric within any one family of slices (all of them, or one column's). */
function gapsOf(slices: Record<string, GroupMetrics>, families: readonly (readonly string[])[]): Partial<Record<SliceMetric, Gap>> {
  const out: Partial<Record<SliceMetric, Gap>> = {};
  for (const m of SLICE_METRICS) {
    for (const family of families) {
      const values = family
        .map((name) => ({ name, g: slices[name]! }))
        .filter(({ g }) => g.judged && g[m] !== null && g[m] !== undefined)
        .map(({ name, g }) => ({ name, v: g[m] as number }));
      if (values.length < 2) continue;
      // Best first; ties stay in name order, so equal slices are named best and worst in that order
      // and the same data always names the same slices.
      const ranked = [...values].sort((a, b) => (higherIsBetter(m) ? b.v - a.v : a.v - b.v));
      const best = ranked[0]!;
      const worst = ranked[ranked.length - 1]!;
      const gap = Math.abs(best.v - worst.v);
      if (out[m] === undefined || gap > out[m].gap) out[m] = { gap, best: best.name, worst: worst.name };
    }
  }
  return out;
}

/** `A: 2 rows; B: 0 rows` for the first few, then `and N more`. */
function listUnsupported(unsupported: readonly UnsupportedSlice[], count: number): string {
  const named = unsupported.slice(0, SUMMARY_LISTED).map((u) => `${u.slice}: ${plural(u.rows, 'row')}`);
  return count > named.length ? `${named.join('; ')}; and ${count - named.length} more` : named.join('; ');
}

/** One slice compared with the baseline's, as kept in `measurements.baseline.drops`. */
interface Drop {
  readonly baseline: number;
  readonly current: number;
  /** How much worse the slice is than in the baseline: a fall (ece: a rise); negative when it is better. */
  readonly drop: number;
}

/**
 * The `slices` validator: per-slice accuracy, recall, precision and ECE against their thresholds,
 * the largest gap between slices, and each slice's drop from the baseline's; slices below
 * `minSupport` are reported with their rows, not judged (or fail, with `failOnUnsupported`).
 */
export const slicesValidator: Validator<SlicesArgs> = {
  name: 'slices',
  // 2: slices below minSupport are listed with their rows (empty intersections too), and mode,
  // failOnUnsupported and baseline judge more.
  version: '2',
  schema: SlicesArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    const groups = typeof args.group === 'string' ? [args.group] : args.group;
    const t: Thresholds = args.thresholds ?? {};
    const maxDrop = args.baseline?.maxDrop;
    const judgesPositives = Boolean(t.recall ?? t.precision ?? t.gap?.recall ?? t.gap?.precision ?? maxDrop?.recall ?? maxDrop?.precision);
    let db: DuckDb | undefined;
    let current: Measured;
    let base: Measured | undefined;
    try {
      const file = resolveInput(ctx.baseDir, args.predictions);
      inputs[args.predictions] = await digestFile(file);
      const baseFile = args.baseline ? resolveInput(ctx.baseDir, args.baseline.predictions) : undefined;
      if (args.baseline && baseFile) inputs[args.baseline.predictions] = await digestFile(baseFile);
      db = await openDuckDb(ctx.signal);
      let rows = 0;
      current = await measure(db, file, args.predictions, 'marked', args, groups, judgesPositives, (n) => ctx.progress({ rows: (rows += n) }));
      if (args.baseline && baseFile) {
        base = await measure(db, baseFile, args.baseline.predictions, 'marked_baseline', args, groups, Boolean(maxDrop?.recall ?? maxDrop?.precision), (n) => ctx.progress({ rows: (rows += n) }));
      }
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    } finally {
      db?.close();
    }

    // ---- per slice
    const measured = current.slices;
    const judged = Object.entries(measured).filter(([, g]) => g.judged);
    const notJudged = Object.entries(measured)
      .filter(([, g]) => !g.judged)
      .map(([name]) => name);
    const unsupportedAll: UnsupportedSlice[] = [
      ...notJudged.map((name) => ({ slice: name, rows: measured[name]!.n })),
      ...current.empty.listed.map((name) => ({ slice: name, rows: 0 })),
    ];
    const unsupportedCount = notJudged.length + current.empty.count;
    const unsupported = unsupportedAll.slice(0, UNSUPPORTED_LISTED);
    const gaps = gapsOf(measured, current.families);
    const measurements: Record<string, unknown> = {
      rows: current.total,
      excludedRows: current.excluded,
      minSupport: args.minSupport,
      mode: args.mode,
      groups: measured,
      gaps,
      overall: current.overall,
      unsupported: unsupportedCount,
    };
    const thresholds = {
      ...t,
      minSupport: args.minSupport,
      mode: args.mode,
      failOnUnsupported: args.failOnUnsupported,
      ...(args.baseline ? { baseline: args.baseline } : {}),
    };
    const supportDetails = {
      notJudged,
      unsupported,
      ...(unsupportedCount > unsupported.length ? { unsupportedCount } : {}),
    };
    const unsupportedText = unsupportedCount === 0 ? '' : `${plural(unsupportedCount, 'slice')} below minSupport ${args.minSupport}`;

    if (judged.length === 0) {
      const largest = Object.entries(measured).reduce<[string, GroupMetrics] | undefined>((a, b) => (a === undefined || b[1].n > a[1].n ? b : a), undefined);
      const why = `no slice has minSupport ${args.minSupport} rows to judge (largest: ${largest?.[0]} with ${largest?.[1].n})`;
      if (args.failOnUnsupported) {
        const failures: SliceFailure[] = unsupported.map((u) => ({ kind: 'unsupported', threshold: args.minSupport, value: u.rows, group: u.slice }));
        return { status: 'failed', summary: `${why}; failOnUnsupported: ${unsupportedText} (${listUnsupported(unsupported, unsupportedCount)})`, measurements, thresholds, inputs, details: { failures, ...supportDetails } };
      }
      return { ...errored(`${why}; ${unsupportedText} not judged (${listUnsupported(unsupported, unsupportedCount)})`, inputs, { failures: [], ...supportDetails }), measurements, thresholds };
    }

    // ---- judge
    const failures: SliceFailure[] = [];
    const failLines: string[] = [];
    const passes: string[] = [];
    const unjudgeable: string[] = [];
    const mins = { accuracy: t.accuracy?.min, recall: t.recall?.min, precision: t.precision?.min } as const;
    for (const m of SLICE_METRICS) {
      const isMax = m === 'ece';
      const limit = isMax ? t.ece?.max : mins[m];
      if (limit === undefined) continue;
      const values = judged.filter(([, g]) => g[m] !== null && g[m] !== undefined).map(([name, g]) => ({ name, v: g[m] as number, n: g.n }));
      if (values.length === 0) {
        unjudgeable.push(`${m}: no judged slice has one (${m === 'recall' ? 'no positive labels' : m === 'precision' ? 'no positive predictions' : 'no scores'})`);
        continue;
      }
      const bad = values.filter((x) => (isMax ? x.v > limit : x.v < limit));
      const worst = values.reduce((a, b) => ((isMax ? b.v > a.v : b.v < a.v) ? b : a));
      const bound = `${isMax ? 'max' : 'min'} ${limit}`;
      if (bad.length === 0) {
        passes.push(`worst ${m} ${fmt(worst.v, limit)} ${isMax ? '≤' : '≥'} ${bound} (${worst.name})`);
        continue;
      }
      for (const x of bad) failures.push({ metric: m, kind: isMax ? 'max' : 'min', threshold: limit, value: x.v, group: x.name });
      const others = bad.length > 1 ? `; ${bad.length - 1} more slice${bad.length > 2 ? 's' : ''} ${isMax ? 'above' : 'below'}` : '';
      failLines.push(`${m} ${fmt(worst.v, limit)} ${isMax ? '>' : '<'} ${bound} in slice ${worst.name} (n=${worst.n}${others})`);
    }
    for (const m of ['accuracy', 'recall', 'precision'] as const) {
      const limit = t.gap?.[m]?.max;
      if (limit === undefined) continue;
      const gap = gaps[m];
      if (gap === undefined) {
        unjudgeable.push(`${m} gap: fewer than two slices${args.mode === 'per-attribute' && groups.length > 1 ? ' of one column' : ''} with minSupport ${args.minSupport} rows and a ${m}`);
        continue;
      }
      const pair = `${gap.best} ${fmt(measured[gap.best]![m]!)} vs ${gap.worst} ${fmt(measured[gap.worst]![m]!)}`;
      if (gap.gap > limit) {
        failures.push({ metric: m, kind: 'gap', threshold: limit, value: gap.gap, group: gap.worst, best: gap.best });
        failLines.push(`${m} gap ${fmt(gap.gap, limit)} > max ${limit} (${pair})`);
      } else passes.push(`${m} gap ${fmt(gap.gap, limit)} ≤ max ${limit} (${pair})`);
    }

    // ---- against the baseline: each slice judged here and there, metric by metric
    const notCompared: { slice: string; reason: string }[] = [];
    if (args.baseline && base) {
      const drops: Record<string, Partial<Record<SliceMetric, Drop>>> = {};
      for (const [name] of judged) {
        const there = base.slices[name];
        if (there === undefined) notCompared.push({ slice: name, reason: 'not in the baseline' });
        else if (!there.judged) notCompared.push({ slice: name, reason: `${plural(there.n, 'row')} in the baseline, below minSupport` });
      }
      for (const m of SLICE_METRICS) {
        const limit = args.baseline.maxDrop[m];
        if (limit === undefined) continue;
        const compared: { name: string; n: number; d: Drop }[] = [];
        for (const [name, g] of judged) {
          const there = base.slices[name];
          const now = g[m];
          const then = there?.[m];
          if (!there?.judged || now === null || now === undefined || then === null || then === undefined) continue;
          const d: Drop = { baseline: then, current: now, drop: higherIsBetter(m) ? then - now : now - then };
          (drops[name] ??= {})[m] = d;
          compared.push({ name, n: g.n, d });
        }
        if (compared.length === 0) {
          unjudgeable.push(`${m} drop: no slice has minSupport ${args.minSupport} rows and a ${m} in both ${args.predictions} and ${args.baseline.predictions}`);
          continue;
        }
        const verb = higherIsBetter(m) ? 'drop' : 'rise';
        const bad = compared.filter((x) => x.d.drop > limit + DROP_TOLERANCE);
        const worst = compared.reduce((a, b) => (b.d.drop > a.d.drop ? b : a));
        const change = (x: { d: Drop }) => `${fmt(x.d.baseline)} → ${fmt(x.d.current)}`;
        if (bad.length === 0) {
          passes.push(`largest ${m} ${verb} from the baseline ${fmt(worst.d.drop, limit)} ≤ maxDrop ${limit} (${worst.name}: ${change(worst)})`);
          continue;
        }
        for (const x of bad) failures.push({ metric: m, kind: 'drop', threshold: limit, value: x.d.drop, group: x.name, baseline: x.d.baseline, current: x.d.current });
        const others = bad.length > 1 ? `; ${bad.length - 1} more slice${bad.length > 2 ? 's' : ''}` : '';
        failLines.push(`${m} ${verb} from the baseline ${fmt(worst.d.drop, limit)} > maxDrop ${limit} in slice ${worst.name} (${change(worst)}, n=${worst.n}${others})`);
      }
      measurements.baseline = {
        predictions: args.baseline.predictions,
        rows: base.total,
        excludedRows: base.excluded,
        groups: base.slices,
        overall: base.overall,
        drops,
      };
    }

    if (args.failOnUnsupported && unsupportedCount > 0) {
      for (const u of unsupported) failures.push({ kind: 'unsupported', threshold: args.minSupport, value: u.rows, group: u.slice });
      failLines.push(`failOnUnsupported: ${unsupportedText} (${listUnsupported(unsupported, unsupportedCount)})`);
    }

    const details = {
      failures,
      ...supportDetails,
      ...(unjudgeable.length > 0 ? { notJudgeable: unjudgeable } : {}),
      ...(args.baseline ? { baseline: { notCompared } } : {}),
    };
    const notes = [
      ...(unsupportedCount > 0 && !args.failOnUnsupported ? [`${unsupportedText} not judged (${listUnsupported(unsupported, unsupportedCount)})`] : []),
      ...(notCompared.length > 0
        ? [`${plural(notCompared.length, 'slice')} not compared with the baseline (${notCompared.slice(0, SUMMARY_LISTED).map((x) => `${x.slice}: ${x.reason}`).join('; ')}${notCompared.length > SUMMARY_LISTED ? `; and ${notCompared.length - SUMMARY_LISTED} more` : ''})`]
        : []),
    ];
    const note = notes.map((x) => `; ${x}`).join('');
    if (failLines.length > 0) {
      const cannot = unjudgeable.length > 0 ? `; could not judge ${unjudgeable.join('; ')}` : '';
      return { status: 'failed', summary: `${failLines.join('; ')}${cannot}${note}`, measurements, thresholds, inputs, details };
    }
    if (unjudgeable.length > 0) {
      return { status: 'errored', summary: `could not judge ${unjudgeable.join('; ')}${note}`, measurements, thresholds, inputs, details };
    }
    const summary = `${plural(judged.length, 'slice')} judged: ${passes.join('; ')}${note}`;
    return { status: 'passed', summary, measurements, thresholds, inputs, details };
  },
};
