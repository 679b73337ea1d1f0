import { describe, expect, it } from 'vitest';
import { RESULT_LIMITS, jsonBytes, maxOf, minOf, pushAll } from './bounded.js';

describe('bounded array helpers', () => {
  const many = Array.from({ length: 500_000 }, (_, i) => i % 1000);

  it('take the max and min of more values than a spread can pass', () => {
    expect(() => Math.max(...many)).toThrow(RangeError);
    expect(maxOf(many)).toBe(999);
    expect(minOf(many)).toBe(0);
    expect(maxOf([], 3)).toBe(3);
    expect(minOf([2, Number.NaN, 1])).toBe(1);
    expect(maxOf([5, 1, 2])).toBe(5);
    expect(maxOf([1, 2], 3)).toBe(3);
    expect(minOf([1, 5, 4])).toBe(1);
    expect(minOf([4, 5], 3)).toBe(3);
    expect(maxOf([])).toBe(-Infinity);
    expect(minOf([])).toBe(Infinity);
  });

  it('bound a validation result to 1 MiB of measurements and of details, and 4,096 characters of summary', () => {
    expect(RESULT_LIMITS).toEqual({ measurementsBytes: 1_048_576, detailsBytes: 1_048_576, summaryChars: 4096 });
    expect(Object.isFrozen(RESULT_LIMITS)).toBe(true);
  });

  it('append more items than a spread can pass', () => {
    expect(pushAll([1], many)).toHaveLength(500_001);
  });

  it('measure JSON in UTF-8 bytes', () => {
    expect(jsonBytes({ a: 'é' })).toBe(10);
    expect(jsonBytes(undefined)).toBe(0);
  });
});
