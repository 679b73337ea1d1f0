/**
 * The chi-square test of homogeneity and the chi-square survival function (the regularized upper
 * incomplete gamma function, which keeps tiny p-values).
 */
import { clip01, EPS } from './numeric.js';

export interface Chi2Result {
  readonly statistic: number;
  readonly pvalue: number;
  readonly dof: number;
}

/**
 * The chi-square test of homogeneity on the 2 × k table of counts (reference row, current row),
 * without continuity correction: `scipy.stats.chi2_contingency(table, correction=False)`.
 * Every category must have a non-zero total (the categories seen in either sample).
 */
export function chi2Homogeneity(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>): Chi2Result {
  const k = referenceCounts.length;
  if (currentCounts.length !== k) throw new RangeError('chi2: count arrays differ in length');
  let nr = 0;
  let nc = 0;
  for (let c = 0; c < k; c++) {
    nr += referenceCounts[c] as number;
    nc += currentCounts[c] as number;
  }
  const total = nr + nc;
  const dof = k - 1; // (rows − 1)·(columns − 1) with two rows
  if (dof === 0) return { statistic: 0, pvalue: 1, dof };
  let statistic = 0;
  for (let c = 0; c < k; c++) {
    const col = (referenceCounts[c] as number) + (currentCounts[c] as number);
    const er = (nr * col) / total;
    const ec = (nc * col) / total;
    statistic += ((referenceCounts[c] as number) - er) ** 2 / er + ((currentCounts[c] as number) - ec) ** 2 / ec;
  }
  return { statistic, pvalue: chi2Sf(statistic, dof), dof };
}

/** Survival function of the chi-square distribution: Q(k/2, x/2), accurate for tiny p-values. */
export function chi2Sf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  if (x <= 0) return 1;
  return gammaincc(k / 2, x / 2);
}

/**
 * The regularized upper incomplete gamma function Q(a, x): the power series for P when x < a + 1
 * (then Q = 1 − P is not small), else the continued fraction for Q directly (modified Lentz), so
 * relative accuracy holds far into the tail.
 */
export function gammaincc(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = a * Math.log(x) - x - lgamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return clip01(1 - sum * Math.exp(logPrefix));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return clip01(Math.exp(logPrefix) * h);
}

const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7; about 1e-15 relative). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) s += (LANCZOS[i] as number) / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}
