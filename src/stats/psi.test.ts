import { describe, expect, it } from 'vitest';
import { binOf, PSI_QUANTILES, psiFromCounts, quantileSorted } from './psi.js';

describe('PSI pieces', () => {
  it('quantiles interpolate linearly as numpy.quantile, at k × 0.1', () => {
    expect(PSI_QUANTILES[2]).toBe(0.30000000000000004);
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([10], 0.9)).toBe(10);
  });

  it('binOf is searchsorted(side="right")', () => {
    expect([0, 1, 1.5, 2, 9].map((x) => binOf([1, 2, 3], x))).toEqual([0, 1, 1, 2, 3]);
  });

  it('floors empty bins at 1e-6 instead of dividing by zero', () => {
    const psi = psiFromCounts([5, 5], [10, 0]);
    expect(psi).toBeCloseTo((1 - 0.5) * Math.log(1 / 0.5) + (1e-6 - 0.5) * Math.log(1e-6 / 0.5), 12);
  });
});
