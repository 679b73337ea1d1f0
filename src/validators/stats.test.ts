import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  binOf,
  chi2Homogeneity,
  chi2Sf,
  gammaincc,
  kstwoSf,
  ksStatisticFromCounts,
  ksStatisticSamples,
  ksStatisticSorted,
  ksTwoSample,
  orderStatistics,
  outerProbInsideMethod,
  probOutsideSquare,
  PSI_QUANTILES,
  psiFromCounts,
  psiSamples,
  psiSorted,
  quantileSorted,
  roundHalfEven,
  smirnovSf,
  sortFloat64,
  sortInt32,
  sortedSample,
} from './stats.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.resolve(repoRoot, '../shared/fixtures/drift');

interface Expected {
  cases: Record<string, { columns: Record<string, Record<string, number | string>> }>;
}
const expected = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

/** A fixture CSV as columns of raw text (the tests' own tiny reader: no quoting in these files). */
function readColumns(file: string): Record<string, string[]> {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const names = head!.split(',');
  const out: Record<string, string[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (const line of lines) line.split(',').forEach((v, i) => out[names[i]!]!.push(v));
  return out;
}

function numbers(texts: string[]): Float64Array {
  return Float64Array.from(texts.filter((t) => t !== ''), Number).sort();
}

function relClose(actual: number, want: number, rel: number): void {
  if (want === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - want) / Math.abs(want)).toBeLessThanOrEqual(rel);
}

describe('fixtures: agree with SciPy 1.10 / NumPy (statistics 1e-9, p-values 1e-6 relative)', () => {
  for (const [name, c] of Object.entries(expected.cases)) {
    const ref = readColumns(path.join(FIXTURES, name, 'reference.csv'));
    const cur = readColumns(path.join(FIXTURES, name, 'current.csv'));
    for (const [column, e] of Object.entries(c.columns)) {
      it(`${name}/${column}`, () => {
        if (e.kind === 'numeric') {
          const a = numbers(ref[column]!);
          const b = numbers(cur[column]!);
          expect(a.length).toBe(e.reference_count);
          expect(b.length).toBe(e.current_count);
          const ks = ksTwoSample(a.length, b.length, ksStatisticSorted(a, b));
          expect(Math.abs(ks.statistic - (e.ks_statistic as number))).toBeLessThanOrEqual(1e-9);
          relClose(ks.pvalue, e.ks_pvalue as number, 1e-6);
          expect(Math.abs(psiSorted(a, b) - (e.psi as number))).toBeLessThanOrEqual(1e-9);
          // The sample-based forms used on large data give the same figures.
          expect(psiSamples(sortedSample(a), sortedSample(b))).toBe(psiSorted(a, b));
          expect(ksStatisticSamples(sortedSample(a), sortedSample(b))).toBe(ksStatisticSorted(a, b));
        } else {
          const cats = [...new Set([...ref[column]!, ...cur[column]!])].filter((v) => v !== '').sort();
          const count = (xs: string[]) => Float64Array.from(cats, (k) => xs.filter((x) => x === k).length);
          const r = count(ref[column]!);
          const k = count(cur[column]!);
          const chi2 = chi2Homogeneity(r, k);
          expect(Math.abs(chi2.statistic - (e.chi2_statistic as number))).toBeLessThanOrEqual(1e-9);
          relClose(chi2.pvalue, e.chi2_pvalue as number, 1e-6);
          expect(chi2.dof).toBe(e.chi2_dof);
          expect(Math.abs(psiFromCounts(r, k) - (e.psi as number))).toBeLessThanOrEqual(1e-9);
        }
      });
    }
  }
});

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

describe('KS statistic without divisions (ksStatisticSamples on plain samples)', () => {
  it('returns the very float of the straightforward merge, ties and all', () => {
    let seed = 5;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 300; t++) {
      const n1 = 1 + Math.floor(rnd() * 400);
      const n2 = 1 + Math.floor(rnd() * 400);
      const levels = 2 + Math.floor(rnd() * 50);
      const shift = rnd() < 0.5 ? 0 : Math.floor(rnd() * 5);
      const a = Float64Array.from({ length: n1 }, () => Math.floor(rnd() * levels)).sort();
      const b = Float64Array.from({ length: n2 }, () => Math.floor(rnd() * levels) + shift).sort();
      expect(ksStatisticSamples(sortedSample(a), sortedSample(b))).toBe(ksStatisticSorted(a, b));
      const keysA = { values: Int32Array.from(a, (v) => v * 100), divisor: 100, counts: null, n: n1 };
      const keysB = { values: Int32Array.from(b, (v) => v * 100), divisor: 100, counts: null, n: n2 };
      expect(ksStatisticSamples(keysA, keysB)).toBe(ksStatisticSorted(a, b));
    }
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

  it('kstwo.sf across its regions (SciPy: stats.kstwo.sf(x, n))', () => {
    const cases: [number, number, number][] = [
      [0.7, 1, 0.6000000000000001], // Ruben–Gambino, t <= 1
      [0.99, 5, 2.0000000000000089e-10], // t >= n − 1
      [0.5, 10, 0.00777741], // x >= 0.5: 2·smirnov
      [0.2581414969163064, 10, 0.4440244749749839], // Durbin matrix
      [0.4917757000188362, 10, 0.009381045193646242], // Pomeranz
      [0.13304786297844765, 100, 0.05273799892819923],
      [0.09277916861784319, 140, 0.16856887176159385],
      [0.10442120572847402, 141, 0.08593143929291003], // n > 140: Durbin / Pelz–Good
      [0.0043177702569734, 400000, 6.644562184776695e-7], // Pelz–Good
    ];
    for (const [x, n, p] of cases) relClose(kstwoSf(x, n), p, 1e-8);
    expect(kstwoSf(0.5 / 7, 7)).toBe(1);
    expect(kstwoSf(1, 7)).toBe(0);
  });

  it('smirnov: the one-sided distribution, including the n > 10^6 approximation', () => {
    relClose(smirnovSf(1013, 0.05), 0.006096375178064648, 1e-9);
    expect(smirnovSf(2, 0)).toBe(1);
    expect(smirnovSf(1, 0.25)).toBe(0.75);
    expect(smirnovSf(3_000_000, 0.001)).toBeCloseTo(Math.exp(-((6 * 3_000_000 * 0.001 + 1) ** 2) / 18 / 3_000_000), 15);
  });

  it('roundHalfEven is np.round', () => {
    expect([0.5, 1.5, 2.5, -2.5, 3.4999].map(roundHalfEven)).toEqual([0, 2, 2, -2, 3]);
  });
});

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

  it('order statistics over counted values', () => {
    const s = { values: Float64Array.from([1, 5, 7]), divisor: 1, counts: Int32Array.from([2, 1, 3]), n: 6 };
    expect([...orderStatistics(s, [0, 1, 2, 5]).entries()].sort()).toEqual([[0, 1], [1, 1], [2, 5], [5, 7]]);
  });
});

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

describe('sortInt32', () => {
  it('sorts within a known range, in one to three passes', () => {
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const [min, max] of [[-5, 5], [-3_000_000, 4_000_000], [-(2 ** 31) + 1, 2 ** 31 - 1]] as const) {
      const a = Int32Array.from({ length: 50_000 }, () => Math.floor(min + rnd() * (max - min + 1)));
      a[0] = min;
      a[1] = max;
      const want = Int32Array.from(a).sort();
      expect([...sortInt32(a, min, max)]).toEqual([...want]);
    }
  });
});

describe('sortFloat64', () => {
  it('sorts signed values, zeros and extremes like a numeric sort', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const a = Float64Array.from({ length: 100_000 }, (_, i) =>
      i % 97 === 0 ? 0 : i % 89 === 0 ? -0 : i % 83 === 0 ? Number.MAX_VALUE * (rnd() - 0.5) : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12 - 6),
    );
    const want = Float64Array.from(a).sort();
    const got = sortFloat64(Float64Array.from(a));
    expect(got.every((v, i) => v === want[i])).toBe(true);
  });
});
