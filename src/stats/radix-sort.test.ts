import { describe, expect, it } from 'vitest';
import { sortFloat64, sortInt32 } from './radix-sort.js';

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
