/**
 * Pure numeric code for the drift validator: the two-sample Kolmogorov–Smirnov test, the population
 * stability index (PSI) and the chi-square test of homogeneity.
 *
 * Written by hand because no well-kept npm package reproduces SciPy's two-sample KS p-values (exact
 * lattice-path counts for small samples, the finite-n Kolmogorov distribution `kstwo` for large
 * ones), and the figures must agree with `scipy.stats.ks_2samp` / `chi2_contingency` (SciPy 1.10,
 * NumPy 1.24) to 1e-9 on statistics and 1e-6 relative on p-values. The code follows SciPy's own
 * algorithms and branch points (named in each function's comment) so that the same method is chosen
 * for the same inputs. The chi-square survival function (regularized upper incomplete gamma) is
 * here too, pending a decision on `@stdlib/math-base-special-gammainc`, which computes the upper
 * tail directly (its `chisquare-cdf` sibling would lose tiny p-values to 1 − cdf). Also the two
 * radix sorts the large-file path needs. Nothing here does I/O.
 */

// ---------------------------------------------------------------------------------------------
// Kolmogorov–Smirnov statistic
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The Kolmogorov distribution kstwo (finite n), SciPy's scipy/stats/_ksstats.py
// ---------------------------------------------------------------------------------------------

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const LOG_2PI = Math.log(2 * Math.PI);
const SQRT2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;
const SQRT3 = Math.sqrt(3);
/** cephes MINLOG: log of the smallest normal double. */
const MINLOG = -7.451332191019412076235e2;
const EPS = 2 ** -52;

/**
 * Survival function of the two-sided one-sample KS statistic D_n: `scipy.stats.kstwo.sf(x, n)`,
 * with SciPy's choice of method by region (Ruben–Gambino, exact Smirnov, Durbin matrix, Pomeranz,
 * Pelz–Good), per Simard & L'Ecuyer (2011).
 */
export function kstwoSf(x: number, n: number): number {
  if (Number.isNaN(x) || !(n >= 1) || n !== Math.round(n)) return NaN;
  // Outside the support (0.5/n, 1): rv_continuous answers 1 and 0 without calling _sf.
  if (x <= 0.5 / n) return 1;
  if (x >= 1) return 0;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return clip01(1 - prob);
  }
  if (t >= n - 1) return clip01(2 * (1 - x) ** n);
  if (x >= 0.5) return clip01(2 * smirnovSf(n, x));
  const nxsquared = t * x;
  if (n <= 140) {
    if (nxsquared <= 0.754693) return clip01(1 - kolmognDurbin(n, x));
    if (nxsquared <= 4) return clip01(1 - kolmognPomeranz(n, x));
    return clip01(2 * smirnovSf(n, x));
  }
  if (nxsquared >= 370) return 0;
  if (nxsquared >= 2.2) return clip01(2 * smirnovSf(n, x));
  let cdf: number;
  if (nxsquared >= 18) cdf = 1;
  else if (n <= 100_000 && n * x ** 1.5 <= 1.4) cdf = kolmognDurbin(n, x);
  else cdf = kolmognPelzGood(n, x);
  return clip01(1 - cdf);
}

const STIRLING_COEFFS = [
  -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
  -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
];

/** log(n! / n^n) by Stirling's series with n·log(n) removed up front (no cancellation). */
function logNFactorialDivNPowN(n: number): number {
  const rn = 1 / n;
  let poly = 0;
  for (const c of STIRLING_COEFFS) poly = poly * (rn / n) + c;
  return Math.log(n) / 2 - n + LOG_2PI / 2 + rn * poly;
}

/** Pr(D_n ≤ d) by Durbin's matrix method as Marsaglia–Tsang–Wang compute it (`_kolmogn_DMTW`). */
export function kolmognDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  let H: Float64Array = new Float64Array(m * m);
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    v[j - 1] = 1 - h ** j;
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (v[j - 1] as number) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)] as number;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c] as number;

  let Hpwr: Float64Array = new Float64Array(m * m);
  for (let r = 0; r < m; r++) Hpwr[r * m + r] = 1;
  let nn = n;
  let expnt = 0;
  let Hexpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      Hpwr = matmul(Hpwr, H, m);
      expnt += Hexpnt;
    }
    H = matmul(H, H, m);
    Hexpnt *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)] as number) > E128) {
      for (let q = 0; q < H.length; q++) H[q] = (H[q] as number) / E128;
      Hexpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = Hpwr[(k - 1) * m + (k - 1)] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  if (expnt !== 0) p = p * 2 ** expnt;
  return clip01(p);
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k] as number;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] = (out[i * m + j] as number) + aik * (b[k * m + j] as number);
    }
  }
  return out;
}

/** Pr(D_n ≤ x) by Pomeranz's recursion (`_kolmogn_Pomeranz`). */
export function kolmognPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const gpower = new Float64Array(npwrs);
  const twogpower = new Float64Array(npwrs);
  const onem2gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twogpower[0] = 1;
  onem2gpower[0] = 1;
  let expnt = 0;
  const gOverN = g / n;
  const twoGOverN = (2 * g) / n;
  const oneMinusTwoGOverN = (1 - 2 * g) / n;
  for (let k = 1; k < npwrs; k++) {
    gpower[k] = ((gpower[k - 1] as number) * gOverN) / k;
    twogpower[k] = ((twogpower[k - 1] as number) * twoGOverN) / k;
    onem2gpower[k] = ((onem2gpower[k - 1] as number) * oneMinusTwoGOverN) / k;
  }
  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let [j1, j2] = pomeranzJ1J2(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzJ1J2(i, n, ll, ceilf, roundf);
    const pwrs = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twogpower : onem2gpower;
    const ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // np.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]), keeping entries conv_start … +conv_len.
      const aStart = k1 - V0s;
      const aLen = Math.max(0, Math.min(aStart + ln2, npwrs) - aStart);
      const bLen = Math.min(ln2, npwrs);
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let vmax = 0;
      for (let q = 0; q < convLen; q++) {
        const idx = convStart + q;
        let s = 0;
        const lo = Math.max(0, idx - bLen + 1);
        const hi = Math.min(idx, aLen - 1);
        for (let r = lo; r <= hi; r++) s += (V0[aStart + r] as number) * (pwrs[idx - r] as number);
        V1[q] = s;
        if (s > vmax) vmax = s;
      }
      if (vmax > 0 && vmax < EM128) {
        for (let q = 0; q < npwrs; q++) V1[q] = (V1[q] as number) * E128;
        expnt -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s] as number;
  for (let k = 1; k <= n; k++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      expnt += 128;
    }
    ans *= k;
  }
  if (expnt !== 0) ans = ans * 2 ** expnt;
  return clip01(ans);
}

function pomeranzJ1J2(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const ip1div2 = Math.floor((i + 1) / 2);
    const ip1mod2 = (i + 1) % 2;
    if (ip1mod2 === 0) {
      if (ip1div2 === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = ip1div2 - 1 - ll - roundf - 1;
        j2 = ip1div2 + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = ip1div2 - 1 - ll - 1;
      j2 = ip1div2 + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** The Pelz–Good approximation to Pr(D_n ≤ x) (`_kolmogn_PelzGood`). */
export function kolmognPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qpower = q ** (8 * k);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let c = 0; c < 4; c++) K[c] = (K[c] as number) * qpower + (coeffs[c] as number);
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let c = 0; c < 4; c++) K[c] = ((K[c] as number) * q * SQRT2PI) / (div[c] as number);
  q = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = SQRT3 * z;
  let k2extra = 0;
  let k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const ksq = k * k;
    const qp = q ** ksq;
    const kspi = Math.PI * k;
    k2extra += ksq * qp;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
  }
  K[2] = (K[2] as number) + (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  K[3] = (K[3] as number) + (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let c = 0; c < 4; c++) sum += (K[c] as number) / n ** (c / 2);
  return sum;
}

/**
 * The one-sided Smirnov survival function Pr(D_n^+ ≥ x), `scipy.special.smirnov(n, x)`: the
 * Birnbaum–Tingey sum for n ≤ 10^6 (in log space, so no term overflows or underflows), SciPy's
 * closed-form approximation above that.
 */
export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  // floor(n·x) and its remainder exactly, from an error-free product.
  const [hi, lo] = twoProduct(n, x);
  let nxfl = Math.floor(hi);
  let alpha = hi - nxfl + lo;
  if (alpha < 0) {
    nxfl -= 1;
    alpha += 1;
  }
  if (alpha >= 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  if (alpha === 0) n1mxfl -= 1;
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) {
    return clip01(1 - x * (1 + x) ** (n - 1));
  }
  if (-2 * n * x * x < MINLOG) return 0;
  if (nxfl >= n - 1) return clip01((1 - x) ** n);
  if (n > 1_000_000) {
    const logp = -((6 * n * x + 1) ** 2) / 18 / n;
    return clip01(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }
  // Lower sum: x · Σ_{v=0}^{n1mxfl} C(n,v) (x + v/n)^(v−1) (1 − x − v/n)^(n−v).
  // Terms are summed scaled by the largest seen so far (a streaming log-sum-exp).
  const nTerms = n1mxfl + 1;
  let logC = 0;
  let logMax = -Infinity;
  let sum = 0;
  for (let v = 0; v < nTerms; v++) {
    const t1x = (nxfl + v + alpha) / n;
    const t2x = (n - nxfl - v - alpha) / n;
    const logA = logC + (v - 1) * Math.log(t1x) + (n - v) * Math.log(t2x);
    if (logA > logMax) {
      sum = sum * Math.exp(logMax - logA) + 1;
      logMax = logA;
    } else {
      sum += Math.exp(logA - logMax);
    }
    // SciPy's early exit: the remaining terms cannot move the sum.
    if (v !== nTerms - 1 && Math.log(4 * (nTerms - v)) + logA < Math.log(EPS) + logMax + Math.log(sum)) break;
    logC += Math.log(n - v) - Math.log(v + 1);
  }
  return clip01(x * Math.exp(logMax + Math.log(sum)));
}

/** Dekker's error-free product: a·b = hi + lo exactly. */
function twoProduct(a: number, b: number): [number, number] {
  const hi = a * b;
  const split = (v: number): [number, number] => {
    const c = 134217729 * v; // 2^27 + 1
    const h = c - (c - v);
    return [h, v - h];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const lo = ah * bh - hi + ah * bl + al * bh + al * bl;
  return [hi, lo];
}

// ---------------------------------------------------------------------------------------------
// Quantiles and PSI
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Samples as sorted values with multiplicities
// ---------------------------------------------------------------------------------------------

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

/**
 * Sorts a Float64Array ascending in place (NaN must have been removed), by an LSD radix sort on the
 * IEEE-754 bits mapped to unsigned order, one byte per pass, skipping bytes that every value shares.
 * About four times faster than `Float64Array.prototype.sort` on ten million values, and its time does
 * not depend on the data. Ties between −0 and +0 keep −0 first, which compares equal anyway.
 */
export function sortFloat64(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < 1 << 15) return a.sort();
  let src: Uint32Array = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  let dst: Uint32Array = new Uint32Array(2 * n);
  // Map to unsigned order: flip every bit of negatives, only the sign bit of positives.
  for (let i = 0; i < 2 * n; i += 2) {
    const hi = src[i + 1] as number;
    if (hi & 0x80000000) {
      src[i] = ~(src[i] as number);
      src[i + 1] = ~hi;
    } else {
      src[i + 1] = hi | 0x80000000;
    }
  }
  const hist = new Int32Array(8 * 256);
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = src[i] as number;
    const hi = src[i + 1] as number;
    bump(hist, lo & 0xff);
    bump(hist, 256 + ((lo >>> 8) & 0xff));
    bump(hist, 512 + ((lo >>> 16) & 0xff));
    bump(hist, 768 + (lo >>> 24));
    bump(hist, 1024 + (hi & 0xff));
    bump(hist, 1280 + ((hi >>> 8) & 0xff));
    bump(hist, 1536 + ((hi >>> 16) & 0xff));
    bump(hist, 1792 + (hi >>> 24));
  }
  const offsets = new Int32Array(256);
  for (let pass = 0; pass < 8; pass++) {
    const base = pass * 256;
    let skip = false;
    for (let b = 0; b < 256; b++) if (hist[base + b] === n) skip = true;
    if (skip) continue;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      offsets[b] = sum;
      sum += hist[base + b] as number;
    }
    const word = pass < 4 ? 0 : 1;
    const shift = (pass % 4) * 8;
    for (let i = 0; i < 2 * n; i += 2) {
      const lo = src[i] as number;
      const hi = src[i + 1] as number;
      const byte = ((word === 0 ? lo : hi) >>> shift) & 0xff;
      const at = 2 * (offsets[byte] as number);
      offsets[byte] = (offsets[byte] as number) + 1;
      dst[at] = lo;
      dst[at + 1] = hi;
    }
    [src, dst] = [dst, src];
  }
  const out = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = src[i] as number;
    const hi = src[i + 1] as number;
    if (hi & 0x80000000) {
      out[i] = lo;
      out[i + 1] = hi & 0x7fffffff;
    } else {
      out[i] = ~lo;
      out[i + 1] = ~hi;
    }
  }
  return a;
}

/**
 * Sorts 32-bit integers whose range [min, max] is known, ascending, in place: an LSD radix sort of
 * (k − min) in as few passes of at most 12 bits as the range needs. `scratch` (at least as long as
 * `a`) is reused when given, which spares allocating and first-touching a second array.
 */
export function sortInt32(a: Int32Array, min: number, max: number, scratch?: Int32Array): Int32Array {
  const n = a.length;
  if (n < 1 << 12 || max <= min) return a.sort();
  const bits = Math.ceil(Math.log2(max - min + 1));
  const passes = Math.ceil(bits / 12);
  const width = Math.ceil(bits / passes);
  const mask = (1 << width) - 1;
  const count = new Int32Array(1 << width);
  let src: Int32Array = a;
  let dst: Int32Array = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Int32Array(n);
  for (let pass = 0, shift = 0; pass < passes; pass++, shift += width) {
    count.fill(0);
    for (let i = 0; i < n; i++) bump(count, (((src[i] as number) - min) >>> shift) & mask);
    let sum = 0;
    for (let b = 0; b <= mask; b++) {
      const c = count[b] as number;
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const v = src[i] as number;
      const b = ((v - min) >>> shift) & mask;
      const at = count[b] as number;
      count[b] = at + 1;
      dst[at] = v;
    }
    [src, dst] = [dst, src];
  }
  if (src !== a) a.set(src);
  return a;
}

function bump(h: Int32Array, i: number): void {
  h[i] = (h[i] as number) + 1;
}

// ---------------------------------------------------------------------------------------------
// Chi-square
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

function clip01(p: number): number {
  if (Number.isNaN(p)) return p;
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** NumPy's `np.round`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
