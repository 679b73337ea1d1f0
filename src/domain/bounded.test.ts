import { describe, expect, it } from 'vitest';
import { jsonBytes, maxOf, minOf, pushAll } from './bounded.js';

describe('bounded array helpers', () => {
  const many = Array.from({ length: 500_000 }, (_, i) => i % 1000);

  it('take the max and min of more values than a spread can pass', () => {
    expect(() => Math.max(...many)).toThrow(RangeError);
    expect(maxOf(many)).toBe(999);
    expect(minOf(many)).toBe(0);
    expect(maxOf([], 3)).toBe(3);
    expect(minOf([2, Number.NaN, 1])).toBe(1);
  });

  it('append more items than a spread can pass', () => {
    expect(pushAll([1], many)).toHaveLength(500_001);
  });

  it('measure JSON in UTF-8 bytes', () => {
    expect(jsonBytes({ a: 'é' })).toBe(10);
    expect(jsonBytes(undefined)).toBe(0);
  });
});
