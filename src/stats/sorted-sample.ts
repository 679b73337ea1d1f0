/**
 * Samples as sorted values with multiplicities: the shape large data is reduced to (raw sorted
 * values, value→count tables, or integer keys over a power of ten), and KS and PSI computed in one
 * pass over it with the same floating-point results as over the raw sorted arrays.
 */
import { ksPick, ksStatisticSorted } from './kolmogorov-smirnov.js';
import { PSI_QUANTILES, psiFromCounts, quantileAt, quantileIndexes } from './psi.js';

/**
 * One sample of a numeric column, without nulls: ascending values and how often each occurs
 * (`counts`; `null` when every entry counts once, and then values may repeat). The values are
 * `values[i] / divisor`: plain doubles with divisor 1, or integer keys over a power of ten (a
 * column written with a fixed number of decimals is kept as 32-bit keys, half the bytes; the
 * division gives exactly the double the text denotes). Raw sorted data and value→count tables both
 * fit this shape, so KS and PSI run in one pass over it.
 */
export interface SortedSample {
  readonly values: Float64Array | Int32Array;
  /** 1, or the power of ten the integer keys in `values` are divided by. */
  readonly divisor: number;
  readonly counts: Int32Array | null;
  /** Number of observations: the sum of `counts`, or `values.length`. */
  readonly n: number;
}

/** A {@link SortedSample} of ascending raw values (ties allowed). */
export function sortedSample(values: Float64Array): SortedSample {
  return { values, divisor: 1, counts: null, n: values.length };
}

/** {@link ksStatisticSorted} over two {@link SortedSample}s, with the same floating-point result. */
export function ksStatisticSamples(a: SortedSample, b: SortedSample): number {
  // With the same divisor, keys order exactly as their values do (distinct keys below 2^31 over
  // a power of ten are distinct doubles), so the merge compares them as they are.
  if (a.divisor === b.divisor && a.counts === null && b.counts === null) return ksPlain(a.values, b.values);
  const av = a.values;
  const bv = b.values;
  const ad = a.divisor;
  const bd = b.divisor;
  const ac = a.counts;
  const bc = b.counts;
  const d1 = av.length;
  const d2 = bv.length;
  const n1 = a.n;
  const n2 = b.n;
  let i = 0;
  let j = 0;
  let ci = 0;
  let cj = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < d1 || j < d2) {
    const x = i < d1 ? (av[i] as number) / ad : Infinity;
    const y = j < d2 ? (bv[j] as number) / bd : Infinity;
    const v = x <= y ? x : y;
    if (ac) while (i < d1 && (av[i] as number) / ad <= v) ci += ac[i++] as number;
    else while (i < d1 && (av[i] as number) / ad <= v) (i++, ci++);
    if (bc) while (j < d2 && (bv[j] as number) / bd <= v) cj += bc[j++] as number;
    else while (j < d2 && (bv[j] as number) / bd <= v) (j++, cj++);
    const diff = ci / n1 - cj / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  return ksPick(minS, maxS);
}

/**
 * The merge of {@link ksStatisticSorted} for two arrays of one kind (keys or doubles), without a
 * division per step: it tracks e = i·n2 − j·n1, which is (F1 − F2)·n1·n2 exactly while
 * n1·n2 < 2^53, and divides only where e is extreme. Distinct values of e are at least 1 apart,
 * far more than the rounding of i/n1 − j/n2, so the float SciPy reports is the largest of those
 * computed at the extreme e (the first {@link MAX_TIES} points that reach it are kept).
 */
function ksPlain(a: Float64Array | Int32Array, b: Float64Array | Int32Array): number {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 * n2 >= 2 ** 53) return ksStatisticSorted(a, b);
  let i = 0;
  let j = 0;
  let e = 0;
  let maxE = -Infinity;
  let minE = Infinity;
  const maxAt: number[] = [];
  const minAt: number[] = [];
  while (i < n1 || j < n2) {
    const x = i < n1 ? (a[i] as number) : Infinity;
    const y = j < n2 ? (b[j] as number) : Infinity;
    const v = x <= y ? x : y;
    const i0 = i;
    const j0 = j;
    while (i < n1 && (a[i] as number) === v) i++;
    while (j < n2 && (b[j] as number) === v) j++;
    e += (i - i0) * n2 - (j - j0) * n1;
    if (e >= maxE) {
      if (e > maxE) (maxE = e), (maxAt.length = 0);
      if (maxAt.length < 2 * MAX_TIES) maxAt.push(i, j);
    }
    if (e <= minE) {
      if (e < minE) (minE = e), (minAt.length = 0);
      if (minAt.length < 2 * MAX_TIES) minAt.push(i, j);
    }
  }
  let maxS = -Infinity;
  let minS = Infinity;
  for (let k = 0; k < maxAt.length; k += 2) maxS = Math.max(maxS, (maxAt[k] as number) / n1 - (maxAt[k + 1] as number) / n2);
  for (let k = 0; k < minAt.length; k += 2) minS = Math.min(minS, (minAt[k] as number) / n1 - (minAt[k + 1] as number) / n2);
  return ksPick(minS, maxS);
}

/** Points kept per extreme of e in {@link ksPlain}; ties beyond it could differ in the last bit only. */
const MAX_TIES = 64;

/** The i-th smallest observations (0-based ranks, any order) of a sample, in one pass. */
export function orderStatistics(s: SortedSample, ranks: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  if (!s.counts) {
    for (const r of ranks) out.set(r, (s.values[r] as number) / s.divisor);
    return out;
  }
  const sorted = [...new Set(ranks)].sort((x, y) => x - y);
  let k = 0;
  let seen = 0;
  for (let i = 0; i < s.values.length && k < sorted.length; i++) {
    seen += s.counts[i] as number;
    while (k < sorted.length && (sorted[k] as number) < seen) out.set(sorted[k++] as number, (s.values[i] as number) / s.divisor);
  }
  return out;
}

/** The nine PSI bin edges of a reference sample (see {@link psiEdgesSorted}). */
export function psiEdgesSample(reference: SortedSample): Float64Array {
  const ranks = PSI_QUANTILES.flatMap((q) => quantileIndexes(reference.n, q));
  const stats = orderStatistics(reference, ranks);
  return Float64Array.from(PSI_QUANTILES, (q) => quantileAt((i) => stats.get(i) as number, reference.n, q));
}

/** Observations per PSI bin (searchsorted side='right' against `edges`) of a sorted sample. */
export function binCountsSample(edges: ArrayLike<number>, s: SortedSample): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  const v = s.values;
  const d = s.divisor;
  const c = s.counts;
  if (c === null) {
    // Bin e holds the values in [edge e−1, edge e): count the values below each edge.
    let prev = 0;
    for (let e = 0; e < edges.length; e++) {
      let lo = prev;
      let hi = v.length;
      const edge = edges[e] as number;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((v[mid] as number) / d < edge) lo = mid + 1;
        else hi = mid;
      }
      counts[e] = lo - prev;
      prev = lo;
    }
    counts[edges.length] = v.length - prev;
    return counts;
  }
  let e = 0;
  for (let i = 0; i < v.length; i++) {
    const x = (v[i] as number) / d;
    while (e < edges.length && (edges[e] as number) <= x) e++;
    counts[e] = (counts[e] as number) + (c[i] as number);
  }
  return counts;
}

/** Numeric PSI of two samples: bins at the reference's deciles, shares floored at {@link PSI_FLOOR}. */
export function psiSamples(reference: SortedSample, current: SortedSample): number {
  const edges = psiEdgesSample(reference);
  return psiFromCounts(binCountsSample(edges, reference), binCountsSample(edges, current));
}
