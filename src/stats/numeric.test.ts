import { describe, expect, it } from 'vitest';
import { roundHalfEven } from './numeric.js';

describe('numeric helpers', () => {
  it('roundHalfEven is np.round', () => {
    expect([0.5, 1.5, 2.5, -2.5, 3.4999].map(roundHalfEven)).toEqual([0, 2, 2, -2, 3]);
  });
});
