import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  chi2Homogeneity,
  ksStatisticSamples,
  ksStatisticSorted,
  ksTwoSample,
  psiFromCounts,
  psiSamples,
  psiSorted,
  sortedSample,
} from './index.js';

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
