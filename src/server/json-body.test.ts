import { describe, expect, it } from 'vitest';
import { jsonDepth } from './json-body.js';

describe('jsonDepth (issue 13, finding 3)', () => {
  it.each([
    ['1', 0],
    ['[]', 1],
    ['{"a": [1, {"b": []}]}', 4],
    ['["[[[[", "\\"[[["]', 1],
    ['[[], [], [[]]]', 3],
  ])('%s nests %i deep (brackets inside strings do not count)', (text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
    expect(JSON.parse(text)).toBeDefined();
  });

  it('stops counting past the limit', () => {
    expect(jsonDepth('['.repeat(1_000_000), 100)).toBe(101);
  });
});
