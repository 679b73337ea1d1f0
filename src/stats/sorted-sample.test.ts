import { describe, expect, it } from 'vitest';
import { ksStatisticSorted } from './kolmogorov-smirnov.js';
import { ksStatisticSamples, orderStatistics, sortedSample } from './sorted-sample.js';

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

describe('samples with counts', () => {
  it('order statistics over counted values', () => {
    const s = { values: Float64Array.from([1, 5, 7]), divisor: 1, counts: Int32Array.from([2, 1, 3]), n: 6 };
    expect([...orderStatistics(s, [0, 1, 2, 5]).entries()].sort()).toEqual([[0, 1], [1, 1], [2, 5], [5, 7]]);
  });
});
