/**
 * Quantiles and the population stability index (PSI): bins cut at the reference's deciles exactly
 * as `numpy.quantile` puts them, shares floored so that an empty bin does not make PSI infinite.
 */

/**
 * The PSI bin probabilities 0.1 … 0.9, computed as k × 0.1 like the fixtures' generator does: the
 * last bit matters (3 × 0.1 = 0.30000000000000004 puts an edge a hair above a tied data value), and
 * the bins must match NumPy's exactly.
 */
export const PSI_QUANTILES: readonly number[] = Object.freeze([1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => k * 0.1));

/** The share below which a PSI bin is floored, so an empty bin does not make PSI infinite. */
export const PSI_FLOOR = 1e-6;

/**
 * The q-quantile of an ascending array by linear interpolation, exactly as `numpy.quantile`'s
 * default method (virtual index (n−1)·q, and NumPy's two-sided `_lerp`).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  return quantileAt((i) => sorted[i] as number, sorted.length, q);
}

/**
 * {@link quantileSorted} for data reached through an accessor: `at(i)` is the i-th smallest of
 * `n` values. Lets callers that only know a few order statistics (a partial sort) use the same code.
 */
export function quantileAt(at: (i: number) => number, n: number, q: number): number {
  if (n === 0) return NaN;
  const vi = (n - 1) * q;
  if (vi >= n - 1) return at(n - 1);
  if (vi < 0) return at(0);
  const prev = Math.floor(vi);
  const gamma = vi - prev;
  return lerp(at(prev), at(prev + 1), gamma);
}

/** The order statistics {@link quantileAt} reads for probability q over n values. */
export function quantileIndexes(n: number, q: number): number[] {
  const vi = (n - 1) * q;
  if (vi >= n - 1) return [n - 1];
  if (vi < 0) return [0];
  const prev = Math.floor(vi);
  return [prev, prev + 1];
}

function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The nine inner bin edges of numeric PSI: the reference's quantiles at 0.1 … 0.9. */
export function psiEdgesSorted(sortedReference: ArrayLike<number>): Float64Array {
  return Float64Array.from(PSI_QUANTILES, (q) => quantileSorted(sortedReference, q));
}

/** `searchsorted(edges, x, side='right')`: the number of edges ≤ x, i.e. x's bin. */
export function binOf(edges: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts of `values` per bin (edges.length + 1 bins). */
export function binCounts(edges: ArrayLike<number>, values: ArrayLike<number>): Float64Array {
  const counts = new Float64Array(edges.length + 1);
  for (let i = 0; i < values.length; i++) {
    const b = binOf(edges, values[i] as number);
    counts[b] = (counts[b] as number) + 1;
  }
  return counts;
}

/**
 * PSI = Σ (cur − ref) · ln(cur / ref) over bins, where each share is count / total floored at
 * {@link PSI_FLOOR}. The two count arrays are aligned bin by bin (or category by category).
 */
export function psiFromCounts(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): number {
  if (referenceCounts.length !== currentCounts.length) throw new RangeError('psi: count arrays differ in length');
  let nr = 0;
  let nc = 0;
  for (let k = 0; k < referenceCounts.length; k++) {
    nr += referenceCounts[k] as number;
    nc += currentCounts[k] as number;
  }
  let psi = 0;
  for (let k = 0; k < referenceCounts.length; k++) {
    const r = Math.max((referenceCounts[k] as number) / nr, PSI_FLOOR);
    const c = Math.max((currentCounts[k] as number) / nc, PSI_FLOOR);
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

/** Numeric PSI of two ascending samples: reference-quantile bins, then {@link psiFromCounts}. */
export function psiSorted(sortedReference: ArrayLike<number>, sortedCurrent: ArrayLike<number>): number {
  const edges = psiEdgesSorted(sortedReference);
  return psiFromCounts(binCounts(edges, sortedReference), binCounts(edges, sortedCurrent));
}
