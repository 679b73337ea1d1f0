/**
 * Pure numeric code: the two-sample Kolmogorov–Smirnov test, the population stability index (PSI)
 * and the chi-square test of homogeneity, used by the drift validator.
 *
 * Written by hand because no well-kept npm package reproduces SciPy's two-sample KS p-values (exact
 * lattice-path counts for small samples, the finite-n Kolmogorov distribution `kstwo` for large
 * ones), and the figures must agree with `scipy.stats.ks_2samp` / `chi2_contingency` (SciPy 1.10,
 * NumPy 1.24) to 1e-9 on statistics and 1e-6 relative on p-values. The code follows SciPy's own
 * algorithms and branch points (named in each function's comment) so that the same method is chosen
 * for the same inputs. The chi-square survival function (regularized upper incomplete gamma) is
 * here too, pending a decision on `@stdlib/math-base-special-gammainc`, which computes the upper
 * tail directly (its `chisquare-cdf` sibling would lose tiny p-values to 1 − cdf). Also the two
 * radix sorts the large-file path needs. Nothing here does I/O, and nothing here imports another
 * part of Tollgate (test/architecture.test.ts checks both).
 */
export { chi2Homogeneity, chi2Sf, gammaincc, lgamma, type Chi2Result } from './chi-square.js';
export { kolmognDurbin, kolmognPelzGood, kolmognPomeranz, kstwoSf, smirnovSf } from './kolmogorov-distribution.js';
export {
  KS_MAX_EXACT_N,
  ksPick,
  ksStatisticFromCounts,
  ksStatisticSorted,
  ksTwoSample,
  outerProbInsideMethod,
  probOutsideSquare,
  type KsMethod,
  type KsResult,
} from './kolmogorov-smirnov.js';
export { roundHalfEven } from './numeric.js';
export {
  binCounts,
  binOf,
  PSI_FLOOR,
  PSI_QUANTILES,
  psiEdgesSorted,
  psiFromCounts,
  psiSorted,
  quantileAt,
  quantileIndexes,
  quantileSorted,
} from './psi.js';
export { sortFloat64, sortInt32 } from './radix-sort.js';
export {
  binCountsSample,
  ksStatisticSamples,
  orderStatistics,
  psiEdgesSample,
  psiSamples,
  sortedSample,
  type SortedSample,
} from './sorted-sample.js';
