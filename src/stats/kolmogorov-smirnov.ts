/**
 * The two-sample Kolmogorov–Smirnov test: the statistic from two sorted samples (or their counts on
 * a common grid) and its two-sided p-value as `scipy.stats.ks_2samp(method='auto')` computes it:
 * exact lattice-path counts for small samples, the Kolmogorov distribution above that.
 */
import { kstwoSf } from './kolmogorov-distribution.js';
import { clip01, gcd, roundHalfEven } from './numeric.js';

/**
 * The two-sided two-sample KS statistic D = sup |F1 − F2| of two ascending arrays without NaN.
 *
 * Evaluated exactly as `ks_2samp` does (`searchsorted(side='right') / n` for both samples, then
 * `cdf1 − cdf2`), so the floating-point value is identical, not merely close.
 */
export function ksStatisticSorted(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  while (i < n1 || j < n2) {
    // The next value in the union; advance past every copy of it in both samples.
    const ai = i < n1 ? (a[i] as number) : Infinity;
    const bj = j < n2 ? (b[j] as number) : Infinity;
    const v = ai <= bj ? ai : bj;
    while (i < n1 && (a[i] as number) <= v) i++;
    while (j < n2 && (b[j] as number) <= v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  return ksPick(minS, maxS);
}

/**
 * The KS statistic from the two samples' counts on a common ascending grid of distinct values:
 * `countsA[k]` and `countsB[k]` are how often value k occurs in each sample (either may be 0).
 * Used when the data have been grouped by value; gives the same float as {@link ksStatisticSorted}.
 */
export function ksStatisticFromCounts(countsA: ArrayLike<number>, countsB: ArrayLike<number>): number {
  let n1 = 0;
  let n2 = 0;
  for (let k = 0; k < countsA.length; k++) n1 += countsA[k] as number;
  for (let k = 0; k < countsB.length; k++) n2 += countsB[k] as number;
  let i = 0;
  let j = 0;
  let maxS = -Infinity;
  let minS = Infinity;
  for (let k = 0; k < countsA.length; k++) {
    i += countsA[k] as number;
    j += countsB[k] as number;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minS) minS = diff;
  }
  return ksPick(minS, maxS);
}

/** SciPy's choice between the largest positive and the largest negative ECDF difference. */
export function ksPick(minDiff: number, maxDiff: number): number {
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  return minS > maxDiff ? minS : maxDiff;
}

/** Which distribution gave a KS p-value: SciPy's `method` after its own fallback. */
export type KsMethod = 'exact' | 'asymp';

export interface KsResult {
  /** The statistic as SciPy reports it (the exact method rounds it to a multiple of 1/lcm(n1, n2)). */
  readonly statistic: number;
  readonly pvalue: number;
  readonly method: KsMethod;
}

/** `ks_2samp`'s `MAX_AUTO_N`: exact p-values when both samples have at most this many values. */
export const KS_MAX_EXACT_N = 10_000;

/**
 * The two-sided p-value of the two-sample KS test for statistic `d` with sample sizes `n1`, `n2`,
 * as `scipy.stats.ks_2samp(method='auto')`: exact when max(n1, n2) ≤ 10000 (falling back to the
 * asymptotic distribution when the exact computation fails), else `kstwo.sf(d, round(n1·n2/(n1+n2)))`.
 */
export function ksTwoSample(n1: number, n2: number, d: number): KsResult {
  if (!(n1 > 0 && n2 > 0)) throw new RangeError('ks: both samples must be non-empty');
  let statistic = d;
  if (Math.max(n1, n2) <= KS_MAX_EXACT_N) {
    const exact = ksExactAttempt(n1, n2, d);
    statistic = exact.d;
    if (exact.ok) return { statistic, pvalue: clip01(exact.prob), method: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const en = (m * n) / (m + n);
  return { statistic, pvalue: clip01(kstwoSf(statistic, roundHalfEven(en))), method: 'asymp' };
}

/** `_attempt_exact_2kssamp` for the two-sided alternative. */
function ksExactAttempt(n1: number, n2: number, d: number): { ok: boolean; d: number; prob: number } {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(d * lcm);
  const dr = h / lcm;
  if (h === 0) return { ok: true, d: dr, prob: 1 };
  const prob = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInsideMethod(n1, n2, g, h);
  // SciPy treats a non-finite or out-of-range result as a failure and goes asymptotic.
  return { ok: prob >= 0 && prob <= 1, d: dr, prob };
}

/**
 * Pr(D_{n,n} ≥ h/n), SciPy's `_compute_prob_outside_square`: the alternating series of binomial
 * ratios evaluated Horner-like to avoid cancellation.
 */
export function probOutsideSquare(n: number, h: number): number {
  let P = 0;
  let k = Math.floor(n / h);
  while (k >= 0) {
    let p1 = 1;
    for (let j = 0; j < h; j++) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    P = p1 * (1 - P);
    k--;
  }
  return 2 * P;
}

/**
 * The proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm,
 * i.e. the exact two-sided p-value; SciPy's `_compute_outer_prob_inside_method` (Hodges' inside
 * method with Viehmann's recursion for 1 − p, which stays accurate for small p).
 */
export function outerProbInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = Math.floor(m / g);
  const ng = Math.floor(n / g);
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  for (let k = minj; k < maxj; k++) A[k] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + minj - lastminj] as number) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) {
      const end = Math.min(maxj - minj + (lastlen - curlen), lenA);
      for (let k = maxj - minj; k < end; k++) A[k] = 1;
    }
  }
  return A[maxj - minj - 1] as number;
}
