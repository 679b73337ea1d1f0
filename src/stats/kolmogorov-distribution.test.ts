import { describe, expect, it } from 'vitest';
import { kstwoSf, smirnovSf } from './kolmogorov-distribution.js';

function relClose(actual: number, want: number, rel: number): void {
  if (want === 0) expect(actual).toBe(0);
  else expect(Math.abs(actual - want) / Math.abs(want)).toBeLessThanOrEqual(rel);
}

describe('the Kolmogorov distribution (values from SciPy 1.10.1)', () => {
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
});
