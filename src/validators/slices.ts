/**
 * `slices`: model performance across subgroups (regions, sex × age band, clinical cohorts), from a
 * predictions file (CSV or Parquet) with one row per example.
 *
 * ```yaml
 * - id: fairness
 *   uses: slices
 *   with:
 *     predictions: eval/predictions.parquet
 *     group: [sex, age_band]            # one column, or several: each combination is a group
 *     score: score                      # optional: probability of the positive class, for ECE
 *     positive: 1                       # the positive class (default 1); a number, string or boolean
 *     minSupport: 30                    # groups with fewer rows are reported, not judged (default 30)
 *     thresholds:
 *       recall: { min: 0.7 }
 *       ece: { max: 0.1 }
 *       gap: { recall: { max: 0.1 } }
 * ```
 *
 * Per group, computed in DuckDB with GROUP BY:
 * - accuracy: share of rows where prediction equals label (multi-class labels compare as classes);
 * - recall and precision of the positive class (null when the group has no positive label, or no
 *   positive prediction: such a group is not judged on that metric);
 * - ECE, expected calibration error: the scores are cut into 10 equal-width bins over [0, 1]
 *   (a score of exactly 1 falls in the last), and ECE = Σ over bins (rows in bin / rows) ×
 *   |share of positive labels in bin − mean score in bin|. Needs `score`; rows with no score are
 *   left out of ECE only.
 * - the gap per metric: the best judged group minus the worst.
 *
 * Labels and predictions are compared as classes: `1`, `1.0`, `true` and `t` are the same class,
 * and so are `0`, `0.0`, `false` and `f`; other text compares as written. Rows without a label or a
 * prediction are left out and counted (`excludedRows`).
 *
 * `failed` when a judged group is below a `min` or above a `max`, or a gap is above its `max`; the
 * summary names the worst group. `errored` when the file or a column is missing, a score is not a
 * probability, no label is the positive class while recall or precision is judged, or too few
 * groups reach `minSupport` to judge a threshold.
 */
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { dataFormatOf, DATA_EXTENSIONS, duckDbMessage, numberLiteral, openDuckDb, quoteIdent, quoteLiteral, readFileSql, type DuckDb, type Row } from './duckdb.js';
import { digestFile, InputError, resolveInput } from './inputs.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';

/** ECE's bins: ten equal-width bins over [0, 1], the common choice (Guo et al., 2017). */
export const ECE_BINS = 10;

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

const SlicesArgsSchema = z
  .strictObject({
    predictions: column('predictions').refine((p) => dataFormatOf(p) !== undefined, { error: `predictions must be a file ending in ${DATA_EXTENSIONS.join(', ')}` }).describe('The predictions file (CSV or Parquet), one row per example, or artifact:NAME.'),
    label: column('label').default('label').describe('The column with the true class (default label).'),
    prediction: column('prediction').default('prediction').describe('The column with the predicted class (default prediction).'),
    score: column('score').optional().describe('The column with the probability of the positive class (needed for ece).'),
    group: z.union([column('group'), z.array(column('group')).min(1, { error: 'group must name at least one column' })], {
      error: 'group must be a column name or a list of them, e.g. region or [sex, age_band]',
    })
    .describe('The column, or list of columns, whose values make the groups (slices), e.g. region or [sex, age_band].'),
    positive: z.union([z.number(), z.string(), z.boolean()], { error: 'positive must be the positive class: a number, string or boolean' }).default(1).describe('The positive class (default 1).'),
    minSupport: z.number({ error: 'minSupport must be a whole number of rows' }).int({ error: 'minSupport must be a whole number of rows' }).min(1, { error: 'minSupport must be at least 1' }).default(30).describe('Groups with fewer rows are not judged (default 30).'),
    thresholds: ThresholdsSchema.describe('What every judged group must meet: accuracy, recall, precision { min }, ece { max }, gap.{accuracy,recall,precision} { max }.'),
  })
  .superRefine((w, ctx) => {
    if (w.thresholds.ece !== undefined && w.score === undefined) ctx.addIssue({ code: 'custom', path: ['thresholds', 'ece'], message: 'ece needs score: the column with the probability of the positive class' });
    const groups = typeof w.group === 'string' ? [w.group] : w.group;
    for (const g of groups) {
      if (g === w.label || g === w.prediction || g === w.score) ctx.addIssue({ code: 'custom', path: ['group'], message: `group column ${g} is also the label, prediction or score column` });
    }
    if (new Set(groups).size !== groups.length) ctx.addIssue({ code: 'custom', path: ['group'], message: 'group names a column twice' });
  });

/** The `with` block of `slices`, after defaults. */
export type SlicesArgs = z.output<typeof SlicesArgsSchema>;

// ---------------------------------------------------------------- SQL

/** The metrics judged per group. */
export const SLICE_METRICS = ['accuracy', 'recall', 'precision', 'ece'] as const;
export type SliceMetric = (typeof SLICE_METRICS)[number];

/** One group's numbers, as kept in `measurements.groups`. */
export interface GroupMetrics {
  readonly n: number;
  readonly accuracy: number;
  readonly recall: number | null;
  readonly precision: number | null;
  /** Present when `score` is set; null when no row of the group has a score. */
  readonly ece?: number | null;
  /** False when the group has fewer than minSupport rows: reported, not judged. */
  readonly judged: boolean;
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

/** Per group (or overall when `groups` is empty) over the marked rows: n, accuracy, recall, precision. */
function metricsSql(marked: string, groups: readonly string[]): string {
  const keys = groups.map((_, i) => `g${i}`);
  const by = keys.length === 0 ? '' : `GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}`;
  return `SELECT ${[
    ...keys,
    'count(*) AS n',
    'avg(CASE WHEN correct THEN 1.0 ELSE 0.0 END) AS accuracy',
    'CASE WHEN count(*) FILTER (WHERE y) > 0 THEN count(*) FILTER (WHERE y AND yhat) / count(*) FILTER (WHERE y) END AS recall',
    'CASE WHEN count(*) FILTER (WHERE yhat) > 0 THEN count(*) FILTER (WHERE y AND yhat) / count(*) FILTER (WHERE yhat) END AS precision',
  ].join(', ')} FROM ${marked} ${by}`;
}

/** Per group (or overall): ECE over ECE_BINS equal-width bins of the score. */
function eceSql(marked: string, groups: readonly string[]): string {
  const keys = groups.map((_, i) => `g${i}`);
  const binKeys = [...keys, 'bin'].join(', ');
  const by = keys.length === 0 ? '' : `GROUP BY ${keys.join(', ')}`;
  return `SELECT ${[...keys, 'sum(bn * abs(positives - confidence)) / sum(bn) AS ece'].join(', ')} FROM (
      SELECT ${binKeys}, count(*) AS bn, avg(CASE WHEN y THEN 1.0 ELSE 0.0 END) AS positives, avg(s) AS confidence
      FROM (SELECT *, least(floor(s * ${ECE_BINS}), ${ECE_BINS - 1}) AS bin FROM ${marked} WHERE s IS NOT NULL) AS scored
      GROUP BY ${binKeys}
    ) AS bins ${by}`;
}

function groupName(row: Row, groups: readonly string[]): string {
  if (groups.length === 1) return String(row.g0);
  return groups.map((g, i) => `${g}=${String(row[`g${i}`])}`).join(', ');
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

// ---------------------------------------------------------------- judging

/** A threshold a group or a gap did not meet, as kept in `details.failures`. */
export interface SliceFailure {
  readonly metric: SliceMetric;
  readonly kind: 'min' | 'max' | 'gap';
  readonly threshold: number;
  readonly value: number;
  /** The group, for min and max; the worst of the pair, for a gap. */
  readonly group: string;
  readonly best?: string;
}

/** The spread of one metric over the judged groups. */
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

/** ece is better low, the others high. */
const higherIsBetter = (m: SliceMetric) => m !== 'ece';

function gapsOf(groups: Record<string, GroupMetrics>): Partial<Record<SliceMetric, Gap>> {
  const out: Partial<Record<SliceMetric, Gap>> = {};
  for (const m of SLICE_METRICS) {
    const values = Object.entries(groups)
      .filter(([, g]) => g.judged && g[m] !== null && g[m] !== undefined)
      .map(([name, g]) => ({ name, v: g[m] as number }));
    if (values.length < 2) continue;
    // Best first; ties stay in name order, so equal groups are named best and worst in that order
    // and the same data always names the same groups.
    const ranked = [...values].sort((a, b) => (higherIsBetter(m) ? b.v - a.v : a.v - b.v));
    const best = ranked[0]!;
    const worst = ranked[ranked.length - 1]!;
    out[m] = { gap: Math.abs(best.v - worst.v), best: best.name, worst: worst.name };
  }
  return out;
}

/**
 * The `slices` validator: per-group accuracy, recall, precision and ECE against their thresholds
 * and the largest gap between groups; groups below `minSupport` are reported but not judged.
 */
export const slicesValidator: Validator<SlicesArgs> = {
  name: 'slices',
  version: '1',
  schema: SlicesArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    const inputs: Record<string, Digest> = {};
    const groups = typeof args.group === 'string' ? [args.group] : args.group;
    const file = resolveInput(ctx.baseDir, args.predictions);
    let db: DuckDb | undefined;
    let total: number;
    let excluded: number;
    let groupRows: Row[];
    let eceRows: Row[];
    let overallRow: Row;
    let overallEce: number | null = null;
    try {
      inputs[args.predictions] = await digestFile(file);
      db = await openDuckDb(ctx.signal);
      const query = async (sql: string) => {
        try {
          return await db!.all(sql);
        } catch (err) {
          throw new InputError(`${args.predictions}: ${duckDbMessage(err)}`);
        }
      };

      let columns: string[];
      try {
        columns = (await db.all(`DESCRIBE SELECT * FROM ${readFileSql(file)}`)).map((r) => String(r.column_name));
      } catch (err) {
        throw new InputError(`${args.predictions}: cannot read as ${dataFormatOf(file) === 'parquet' ? 'Parquet' : 'CSV'}: ${duckDbMessage(err)}`);
      }
      const used = [args.label, args.prediction, ...(args.score ? [args.score] : []), ...groups];
      const absent = used.filter((c) => !columns.includes(c));
      if (absent.length > 0) {
        throw new InputError(`${args.predictions} has no column ${absent.map((c) => JSON.stringify(c)).join(', ')} (columns: ${columns.join(', ')})`);
      }
      // The columns read are pinned to text in a CSV: the sniffer guesses types from a sample, and a
      // value after the sample that does not fit would abort the scan. Every metric casts itself.
      const from = readFileSql(file, dataFormatOf(file) === 'csv' ? { types: Object.fromEntries(used.map((c) => [c, 'VARCHAR'])) } : {});
      // One scan of the file into the few columns the metrics read; every query below reads that.
      await query(`CREATE TEMP TABLE marked AS ${markedSql(from, args, groups)}`);
      const marked = 'marked';

      const [counts = {}] = await query(
        `SELECT count(*) AS total,
           count(*) FILTER (WHERE ${quoteIdent(args.label)} IS NULL OR ${quoteIdent(args.prediction)} IS NULL) AS excluded,
           ${args.score ? `count(*) FILTER (WHERE ${quoteIdent(args.score)} IS NOT NULL AND NOT coalesce(TRY_CAST(${text(args.score)} AS DOUBLE) BETWEEN 0 AND 1, FALSE))` : '0'} AS bad_scores
         FROM ${from} AS src`,
      );
      total = Number(counts.total);
      excluded = Number(counts.excluded);
      ctx.progress({ rows: total });
      if (Number(counts.bad_scores) > 0) {
        const [first] = await query(
          `SELECT ${text(args.score!)} AS v FROM ${from} AS src WHERE ${quoteIdent(args.score!)} IS NOT NULL AND NOT coalesce(TRY_CAST(${text(args.score!)} AS DOUBLE) BETWEEN 0 AND 1, FALSE) LIMIT 1`,
        );
        throw new InputError(`${args.predictions}: ${counts.bad_scores} value(s) of ${args.score} are not probabilities from 0 to 1 (first: ${String(first?.v)})`);
      }
      if (total - excluded === 0) throw new InputError(`${args.predictions}: no row has both a ${args.label} and a ${args.prediction}`);

      groupRows = await query(metricsSql(marked, groups));
      [overallRow = {}] = await query(metricsSql(marked, []));
      eceRows = args.score ? await query(eceSql(marked, groups)) : [];
      if (args.score) overallEce = num((await query(eceSql(marked, [])))[0]?.ece);

      const judgesPositives = args.thresholds.recall ?? args.thresholds.precision ?? args.thresholds.gap?.recall ?? args.thresholds.gap?.precision;
      if (judgesPositives && overallRow.recall === null) {
        const labels = (await query(`SELECT DISTINCT ${text(args.label)} AS v FROM ${from} AS src WHERE ${quoteIdent(args.label)} IS NOT NULL ORDER BY 1 LIMIT 5`)).map((r) => String(r.v));
        throw new InputError(`${args.predictions}: no ${args.label} is the positive class ${JSON.stringify(args.positive)} (labels: ${labels.join(', ')}); set positive`);
      }
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    } finally {
      db?.close();
    }

    // ---- per group
    const eceByGroup = new Map(eceRows.map((r) => [groupName(r, groups), num(r.ece)]));
    const measured: Record<string, GroupMetrics> = {};
    for (const r of groupRows) {
      const name = groupName(r, groups);
      const n = Number(r.n);
      measured[name] = {
        n,
        accuracy: Number(r.accuracy),
        recall: num(r.recall),
        precision: num(r.precision),
        ...(args.score ? { ece: eceByGroup.get(name) ?? null } : {}),
        judged: n >= args.minSupport,
      };
    }
    const judged = Object.entries(measured).filter(([, g]) => g.judged);
    const notJudged = Object.entries(measured)
      .filter(([, g]) => !g.judged)
      .map(([name]) => name);
    const gaps = gapsOf(measured);
    const overall = {
      n: Number(overallRow.n),
      accuracy: Number(overallRow.accuracy),
      recall: num(overallRow.recall),
      precision: num(overallRow.precision),
      ...(args.score ? { ece: overallEce } : {}),
    };
    const measurements = { rows: total, excludedRows: excluded, minSupport: args.minSupport, groups: measured, gaps, overall };
    const thresholds = { ...args.thresholds, minSupport: args.minSupport };

    if (judged.length === 0) {
      const largest = Object.entries(measured).reduce<[string, GroupMetrics] | undefined>((a, b) => (a === undefined || b[1].n > a[1].n ? b : a), undefined);
      return {
        ...errored(`no group has minSupport ${args.minSupport} rows to judge (largest: ${largest?.[0]} with ${largest?.[1].n})`, inputs),
        measurements,
        thresholds,
      };
    }

    // ---- judge
    const failures: SliceFailure[] = [];
    const failLines: string[] = [];
    const passes: string[] = [];
    const unjudgeable: string[] = [];
    const mins = { accuracy: args.thresholds.accuracy?.min, recall: args.thresholds.recall?.min, precision: args.thresholds.precision?.min } as const;
    for (const m of SLICE_METRICS) {
      const isMax = m === 'ece';
      const limit = isMax ? args.thresholds.ece?.max : mins[m];
      if (limit === undefined) continue;
      const values = judged.filter(([, g]) => g[m] !== null && g[m] !== undefined).map(([name, g]) => ({ name, v: g[m] as number, n: g.n }));
      if (values.length === 0) {
        unjudgeable.push(`${m}: no judged group has one (${m === 'recall' ? 'no positive labels' : m === 'precision' ? 'no positive predictions' : 'no scores'})`);
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
      const others = bad.length > 1 ? `; ${bad.length - 1} more group${bad.length > 2 ? 's' : ''} ${isMax ? 'above' : 'below'}` : '';
      failLines.push(`${m} ${fmt(worst.v, limit)} ${isMax ? '>' : '<'} ${bound} in group ${worst.name} (n=${worst.n}${others})`);
    }
    for (const m of ['accuracy', 'recall', 'precision'] as const) {
      const limit = args.thresholds.gap?.[m]?.max;
      if (limit === undefined) continue;
      const gap = gaps[m];
      if (gap === undefined) {
        unjudgeable.push(`${m} gap: fewer than two groups with minSupport ${args.minSupport} rows and a ${m}`);
        continue;
      }
      const pair = `${gap.best} ${fmt(measured[gap.best]![m]!)} vs ${gap.worst} ${fmt(measured[gap.worst]![m]!)}`;
      if (gap.gap > limit) {
        failures.push({ metric: m, kind: 'gap', threshold: limit, value: gap.gap, group: gap.worst, best: gap.best });
        failLines.push(`${m} gap ${fmt(gap.gap, limit)} > max ${limit} (${pair})`);
      } else passes.push(`${m} gap ${fmt(gap.gap, limit)} ≤ max ${limit} (${pair})`);
    }

    const details = { failures, notJudged, ...(unjudgeable.length > 0 ? { notJudgeable: unjudgeable } : {}) };
    const note = notJudged.length > 0 ? `; ${notJudged.length} group${notJudged.length === 1 ? '' : 's'} below minSupport ${args.minSupport} not judged (${notJudged.join('; ')})` : '';
    if (failLines.length > 0) {
      const cannot = unjudgeable.length > 0 ? `; could not judge ${unjudgeable.join('; ')}` : '';
      return { status: 'failed', summary: `${failLines.join('; ')}${cannot}${note}`, measurements, thresholds, inputs, details };
    }
    if (unjudgeable.length > 0) {
      return { status: 'errored', summary: `could not judge ${unjudgeable.join('; ')}${note}`, measurements, thresholds, inputs, details };
    }
    const summary = `${judged.length} group${judged.length === 1 ? '' : 's'} judged: ${passes.join('; ')}${note}`;
    return { status: 'passed', summary, measurements, thresholds, inputs, details };
  },
};
