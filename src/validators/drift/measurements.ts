/**
 * The measurements of drift, pure: KS, PSI and chi-square of one column from its two samples, the
 * shares per bin the report draws, and the judgement of each measurement against its thresholds.
 */
import {
  binCountsSample,
  chi2Homogeneity,
  ksStatisticSamples,
  ksTwoSample,
  psiEdgesSample,
  psiFromCounts,
  psiSamples,
  type SortedSample,
} from '../../stats/index.js';
import type { ColumnRules, DriftArgs } from './drift-args.js';

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

/** One verdict as the summary line puts it: `psi 0.31 > max 0.2 on amount`. */
export function describeVerdict(v: Verdict): string {
  return `${v.metric} ${formatNumber(v.value)} ${v.op} ${v.bound === 'max' ? 'max' : v.bound} ${formatNumber(v.limit)} on ${v.column}`;
}

/** The sum of some numbers. */
export function sum(xs: Iterable<number>): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
