import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import { digestFile } from './inputs.js';
import { histogramPercentile, latencyValidator, linearPercentile, type LatencyArgs } from './latency.js';

const DIR = fixtureDir('latency');
const ctx = testContext(DIR);

function run(w: Record<string, unknown>) {
  return latencyValidator.run(latencyValidator.schema.parse(w) as LatencyArgs, ctx);
}

describe('latency: schema', () => {
  it('accepts thresholds as { max }', () => {
    expect(latencyValidator.schema.parse({ data: 'a.txt', p95: { max: 50 }, errorRate: { max: 0.01 } })).toEqual({
      data: 'a.txt',
      p95: { max: 50 },
      errorRate: { max: 0.01 },
    });
  });

  it.each([
    [{ data: 'a.txt' }, /give at least one threshold: p50, p95, p99 or errorRate/],
    [{ p95: { max: 5 } }, /data must be the path of a latency file/],
    [{ data: 'a.txt', p95: 50 }, /p95 must be written \{ max: N \} \(milliseconds\)/],
    [{ data: 'a.txt', p95: { max: -1 } }, /p95\.max must be 0 or more/],
    [{ data: 'a.txt', p95: { min: 1 } }, /min/],
    [{ data: 'a.txt', errorRate: { max: 5 } }, /errorRate\.max must be at most 1/],
    [{ data: 'a.txt', p90: { max: 5 } }, /p90/],
    [{ data: 'a.txt', p95_ms_max: 5 }, /p95_ms_max/],
  ])('rejects %j', (w, message) => {
    const r = latencyValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.message} ${'keys' in i ? (i.keys as string[]).join(',') : ''}`).join('\n')).toMatch(message);
  });
});

describe('percentiles', () => {
  it('matches numpy.percentile (linear) on samples', () => {
    const s = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(linearPercentile(s, 0.5)).toBeCloseTo(55, 9);
    expect(linearPercentile(s, 0.95)).toBeCloseTo(95.5, 9);
    expect(linearPercentile(s, 0.99)).toBeCloseTo(99.1, 9);
    expect(linearPercentile([7], 0.99)).toBe(7);
  });

  it('interpolates inside a histogram bucket as histogram_quantile does', () => {
    const b = [
      { le: 10, count: 50 },
      { le: 20, count: 90 },
      { le: Infinity, count: 100 },
    ];
    expect(histogramPercentile(b, 0.5)).toEqual({ value: 10, overflow: false });
    expect(histogramPercentile(b, 0.7)).toEqual({ value: 15, overflow: false });
    expect(histogramPercentile(b, 0.95)).toEqual({ value: 20, overflow: true });
  });
});

describe('latency: judgement', () => {
  it('reads text samples with comments, blank lines and errors', async () => {
    const out = await run({ data: 'samples.txt', p50: { max: 60 }, p95: { max: 100 }, p99: { max: 100 } });
    expect(out.status).toBe('passed');
    expect(out.measurements).toEqual({
      requests: 11,
      errors: 1,
      errorRate: 0.090909,
      p50_ms: 55,
      p95_ms: 95.5,
      p99_ms: 99.1,
      min_ms: 10,
      max_ms: 100,
      method: 'linear',
    });
    expect(out.thresholds).toEqual({ p50: { max: 60 }, p95: { max: 100 }, p99: { max: 100 } });
    expect(out.summary).toBe('p50 55 ms ≤ max 60 ms; p95 95.5 ms ≤ max 100 ms; p99 99.1 ms ≤ max 100 ms over 11 requests');
    expect(out.inputs).toEqual({ 'samples.txt': await digestFile(path.join(DIR, 'samples.txt')) });
  });

  it('fails each threshold that is exceeded, with the value and the maximum', async () => {
    const out = await run({ data: 'samples.txt', p95: { max: 95 }, p99: { max: 200 }, errorRate: { max: 0.05 } });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('p95 95.5 ms > max 95 ms; error rate 0.090909 > max 0.05 (1 of 11)');
  });

  it('passes at exactly the maximum', async () => {
    expect((await run({ data: 'samples.txt', p95: { max: 95.5 } })).status).toBe('passed');
  });

  it.each([
    ['samples.json', { requests: 5, errors: 0, errorRate: 0, p50_ms: 3, p95_ms: 4.8, p99_ms: 4.96 }],
    ['samples-errors.json', { requests: 6, errors: 1, errorRate: 0.166667, p50_ms: 3, p95_ms: 4.8, p99_ms: 4.96 }],
  ])('reads JSON samples from %s', async (data, expected) => {
    const out = await run({ data, p99: { max: 5 } });
    expect(out.status).toBe('passed');
    expect(out.measurements).toMatchObject(expected);
  });

  it('reads a cumulative histogram and derives errors from total', async () => {
    const out = await run({ data: 'histogram.json', p50: { max: 10 }, p95: { max: 40 }, p99: { max: 50 }, errorRate: { max: 0.05 } });
    expect(out.status).toBe('passed');
    expect(out.measurements).toEqual({
      requests: 104,
      errors: 4,
      errorRate: 0.038462,
      p50_ms: 10,
      p95_ms: 36.666667,
      p99_ms: 50,
      method: 'histogram',
    });
  });

  it('fails a maximum it cannot show is met when the percentile is in the +Inf bucket', async () => {
    const out = await run({ data: 'histogram-overflow.json', p50: { max: 100 }, p95: { max: 1000 } });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('p95 > 100 ms (beyond the last finite bucket) vs max 1000 ms');
    expect(out.measurements).toMatchObject({ p95_ms: 100, p99_ms: 100, overflow: ['p95', 'p99'] });
  });

  it('fails a percentile when every request failed', async () => {
    const out = await run({ data: 'all-errors.txt', p95: { max: 50 }, errorRate: { max: 0.5 } });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('no successful request to measure p95 (all 3 failed); error rate 1 > max 0.5 (3 of 3)');
    expect(out.measurements).toMatchObject({ requests: 3, errors: 3, errorRate: 1, p95_ms: null });
  });

  it.each([
    ['missing.txt', /missing\.txt: no such file/],
    ['empty.txt', /^empty\.txt: holds no request$/],
    ['negative.txt', /^negative\.txt:2: "-3" is not a latency \(milliseconds, 0 or more\) nor "error"$/],
    ['words.txt', /^words\.txt:3: "fast" is not a latency/],
    ['truncated.json', /^truncated\.json: not JSON/],
    ['not-latency.json', /^not-latency\.json: not a latency file: expected an array of milliseconds/],
    ['string-sample.json', /^string-sample\.json: \[1\]: /],
    ['histogram-decreasing.json', /^histogram-decreasing\.json: buckets\[1\]\.count 40 is below the one before \(50\): counts are cumulative/],
    ['histogram-unordered.json', /^histogram-unordered\.json: buckets\[1\]\.le must be greater than the one before \(20\)$/],
    ['histogram-total-mismatch.json', /^histogram-total-mismatch\.json: total 60 is not the 50 requests in the buckets plus 2 errors$/],
    ['histogram-bad-le.json', /^histogram-bad-le\.json: buckets\[0\]\.le: le must be a number of ms or "\+Inf"$/],
  ])('errors on %s', async (data, message) => {
    const out = await run({ data, p95: { max: 50 } });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
  });
});
