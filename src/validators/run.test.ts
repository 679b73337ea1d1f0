import { describe, expect, it } from 'vitest';
import { RESULT_LIMITS, jsonBytes } from '../domain/bounded.js';
import { boundOutcome } from './run.js';
import type { ValidatorOutcome } from './validator.js';

const base: ValidatorOutcome = { status: 'passed', summary: 'ok', measurements: { a: 1 }, thresholds: {}, inputs: {} };

// Security finding 7 (issue 13): what a validator may record is bounded.
describe('boundOutcome', () => {
  it('leaves an outcome that fits alone', () => {
    expect(boundOutcome('x', { ...base, details: { stdout: 'hi' } })).toEqual({ ...base, details: { stdout: 'hi' } });
  });

  it('records measurements over 1 MiB as errored, saying how large and what the validator said', () => {
    const metrics = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`metric_${i}`, i / 7]));
    const o = boundOutcome('metrics', { ...base, summary: 'all 3 rules passed', measurements: { metrics } });
    expect(o.status).toBe('errored');
    expect(o.summary).toMatch(/^metrics measured \d+\.\d MiB of JSON, over the 1\.0 MiB a result may record; measure less .* It said: passed: all 3 rules passed$/);
    expect(o.measurements).toEqual({ oversized: { bytes: expect.any(Number), limit: RESULT_LIMITS.measurementsBytes } });
  });

  it('cuts details over 1 MiB to fit, with a note', () => {
    const findings = Array.from({ length: 100_000 }, (_, i) => ({ rule: `R${i}`, message: 'x'.repeat(40) }));
    const o = boundOutcome('sarif', { ...base, details: { findings, tool: 'scanner' } });
    expect(o.status).toBe('passed');
    expect(jsonBytes(o.details)).toBeLessThanOrEqual(RESULT_LIMITS.detailsBytes);
    expect(o.details).toMatchObject({ tool: 'scanner', truncated: { bytes: expect.any(Number), limit: RESULT_LIMITS.detailsBytes, note: 'lists and maps cut to their first 1000 items' } });
    expect((o.details as { findings: unknown[] }).findings).toHaveLength(1000);
  });

  it('cuts a summary to 4,096 characters', () => {
    expect(boundOutcome('x', { ...base, summary: 's'.repeat(10_000) }).summary).toHaveLength(RESULT_LIMITS.summaryChars);
  });
});
