import { describe, expect, it } from 'vitest';
import { chi2Homogeneity, chi2Sf, gammaincc } from './chi-square.js';

function relClose(actual: number, want: number, rel: number): void {
  if (want === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - want) / Math.abs(want)).toBeLessThanOrEqual(rel);
}

describe('chi-square', () => {
  it('survival function far into the tail (SciPy: stats.chi2.sf)', () => {
    relClose(chi2Sf(516.9013159878683, 3), 1.0370197632112205e-111, 1e-9);
    relClose(chi2Sf(3.702947193453525, 3), 0.29537861285710343, 1e-12);
    relClose(chi2Sf(1033.8, 999), 0.2163579228370941, 1e-9);
    expect(gammaincc(2, 0)).toBe(1);
  });

  it('one category has no degrees of freedom: statistic 0, p 1', () => {
    expect(chi2Homogeneity([4], [7])).toEqual({ statistic: 0, pvalue: 1, dof: 0 });
  });
});
