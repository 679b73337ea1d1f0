import { describe, expect, it } from 'vitest';
import { ksStatisticFromCounts, ksStatisticSorted, ksTwoSample, outerProbInsideMethod, probOutsideSquare } from './kolmogorov-smirnov.js';
import { ksStatisticSamples, sortedSample } from './sorted-sample.js';

function relClose(actual: number, want: number, rel: number): void {
  if (want === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - want) / Math.abs(want)).toBeLessThanOrEqual(rel);
}

describe('KS statistic', () => {
  it('evaluates both ECDFs after every tie, like searchsorted(side="right")', () => {
    // F1 − F2 at 1: 2/3 − 1/2; at 2: 1 − 1/2; at 3: 1 − 1 → D = 1/2.
    expect(ksStatisticSorted([1, 1, 2], [1, 3])).toBe(1 - 0.5);
    expect(ksStatisticSorted([0, 0], [0, 0, 0])).toBe(0);
  });

  it('takes the larger of the two one-sided differences', () => {
    expect(ksStatisticSorted([5, 6, 7], [1, 2, 8])).toBeCloseTo(2 / 3, 15);
  });

  it('gives the same float from counts on a common grid and from weighted samples', () => {
    const a = Float64Array.from([1, 1, 2, 4, 4, 4]);
    const b = Float64Array.from([2, 3, 3, 4, 5]);
    const d = ksStatisticSorted(a, b);
    expect(ksStatisticFromCounts([2, 1, 0, 3, 0], [0, 1, 2, 1, 1])).toBe(d);
    const weighted = { values: Float64Array.from([1, 2, 4]), divisor: 1, counts: Int32Array.from([2, 1, 3]), n: 6 };
    expect(ksStatisticSamples(weighted, sortedSample(b))).toBe(d);
    // Integer keys over a power of ten: 10/10, 20/10, … are the same doubles.
    const keyed = { values: Int32Array.from([10, 10, 20, 40, 40, 40]), divisor: 10, counts: null, n: 6 };
    expect(ksStatisticSamples(keyed, sortedSample(b))).toBe(d);
  });
});

describe('KS p-values (values from SciPy 1.10.1)', () => {
  it('exact, equal sample sizes: probOutsideSquare', () => {
    // stats.ks_2samp(range(10), range(5, 15)): D = 0.5, p = 0.16782134274394334
    expect(ksTwoSample(10, 10, 0.5)).toMatchObject({ statistic: 0.5, method: 'exact' });
    relClose(ksTwoSample(10, 10, 0.5).pvalue, 0.16782134274394334, 1e-9);
    expect(probOutsideSquare(5, 5)).toBeCloseTo(2 / 252, 15);
  });

  it('exact, unequal sizes: rounds D to a multiple of 1/lcm like SciPy', () => {
    const r = ksTwoSample(120, 90, 0.11666666666666667);
    expect(r.method).toBe('exact');
    expect(r.statistic).toBe(21 / 180);
    relClose(r.pvalue, 0.4565474571758979, 1e-9);
    // stats.ks_2samp([1, 2, 3], [4, 5]): D = 1, p = 0.2 (2 of the C(5, 2) orderings are that extreme).
    expect(outerProbInsideMethod(3, 2, 1, 6)).toBeCloseTo(0.2, 15);
  });

  it('D = 0 gives p = 1', () => {
    expect(ksTwoSample(7, 9, 0)).toEqual({ statistic: 0, pvalue: 1, method: 'exact' });
  });

  it('asymptotic above 10 000 a side, with n = round(n1·n2/(n1+n2))', () => {
    const r = ksTwoSample(40000, 30000, 0.020866666666666644);
    expect(r.method).toBe('asymp');
    relClose(r.pvalue, 6.471090679740894e-7, 1e-6);
  });
});
