/**
 * `latency`: percentiles and the error rate of measured request latencies, against maxima.
 *
 * ```yaml
 * - { id: latency, uses: latency, with: { data: load/latencies.txt, p95: { max: 50 }, p99: { max: 120 }, errorRate: { max: 0.01 } } }
 * ```
 *
 * The `data` file holds one of (the format is recognised from the content):
 *
 * 1. **Samples as text**: one latency in milliseconds per line; blank lines and `#` comments are
 *    skipped; a line `error` records a request that failed (it has no latency).
 *    ```
 *    12.5
 *    13
 *    error
 *    ```
 * 2. **Samples as JSON**: an array of milliseconds, `[12.5, 13, 40]`, or an object
 *    `{ "samples": [12.5, 13, 40], "errors": 1 }` when requests also failed.
 * 3. **A histogram as JSON**, as load generators and Prometheus export it, with *cumulative* counts
 *    (`count` is the number of successful requests that took at most `le` ms; the last bucket may be
 *    `"le": "+Inf"`):
 *    ```json
 *    { "buckets": [{ "le": 5, "count": 10 }, { "le": 10, "count": 25 }, { "le": "+Inf", "count": 26 }],
 *      "errors": 2, "total": 28 }
 *    ```
 *    `errors` counts failed requests, which are in no bucket; `total` counts every request. Give
 *    either (the other follows) or both (they must agree); neither means no request failed.
 *
 * Percentiles are over successful requests only; the error rate is failed / all requests.
 * - Samples: linear interpolation between the two nearest ranks (`h = (n − 1)·q`), numpy's default
 *   (`method='linear'`, Hyndman & Fan type 7).
 * - Histogram: linear interpolation inside the bucket that holds rank `q·n`, as Prometheus'
 *   `histogram_quantile` does (the first bucket starts at 0). A percentile that falls in the
 *   `+Inf` bucket is only known to exceed the last finite bound: it is reported as that bound, listed
 *   in `measurements.overflow`, and fails any maximum, since it cannot be shown to be below it.
 */
import * as z from 'zod';
import type { Digest } from '../domain/digest.js';
import { InputError, readInput } from './inputs.js';
import { errored, type Validator, type ValidatorOutcome } from './validator.js';

// ---------------------------------------------------------------- with

function maxOf(name: string, unit: string, upper?: number) {
  let max = z.number({ error: `${name}.max must be a number (${unit})` }).min(0, { error: `${name}.max must be 0 or more` });
  if (upper !== undefined) max = max.max(upper, { error: `${name}.max must be at most ${upper}` });
  return z.strictObject({ max: max.describe(`The highest value allowed (${unit}).`) }, { error: `${name} must be written { max: N } (${unit})` }).optional();
}

const PERCENTILES = ['p50', 'p95', 'p99'] as const;
type Percentile = (typeof PERCENTILES)[number];
const QUANTILE: Record<Percentile, number> = { p50: 0.5, p95: 0.95, p99: 0.99 };

const LatencyArgsSchema = z
  .strictObject({
    data: z.string({ error: 'data must be the path of a latency file' }).min(1, { error: 'data must not be empty' }).describe('The latency file: numbers (ms) one a line, a JSON array, {samples, errors}, or a cumulative histogram {buckets: [{le, count}], errors?, total?}; or artifact:NAME.'),
    p50: maxOf('p50', 'milliseconds').describe('The median latency must be at most { max } milliseconds.'),
    p95: maxOf('p95', 'milliseconds').describe('The 95th percentile latency must be at most { max } milliseconds.'),
    p99: maxOf('p99', 'milliseconds').describe('The 99th percentile latency must be at most { max } milliseconds.'),
    errorRate: maxOf('errorRate', 'a fraction from 0 to 1', 1).describe('The share of errors must be at most { max }, a fraction from 0 to 1.'),
  })
  .refine((w) => [...PERCENTILES, 'errorRate' as const].some((k) => w[k] !== undefined), {
    error: 'give at least one threshold: p50, p95, p99 or errorRate, e.g. p95: { max: 50 }',
  });

/** The `with` block of `latency`. */
export type LatencyArgs = z.output<typeof LatencyArgsSchema>;

// ---------------------------------------------------------------- reading

/** What a latency file says: the successful requests' latencies (or histogram) and the failed count. */
type Data =
  | { readonly kind: 'samples'; readonly samples: number[]; readonly errors: number }
  | { readonly kind: 'histogram'; readonly buckets: readonly Bucket[]; readonly errors: number };

interface Bucket {
  readonly le: number;
  readonly count: number;
}

const ms = z.number().finite().min(0, { error: 'latencies must be 0 or more' });
const count = z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' });
const SamplesArray = z.array(ms);
const SamplesObject = z.strictObject({ samples: z.array(ms), errors: count.optional() });
const HistogramObject = z.strictObject({
  buckets: z
    .array(
      z.strictObject({
        le: z.union([z.number().finite(), z.literal('+Inf')], { error: 'le must be a number of ms or "+Inf"' }),
        count,
      }),
    )
    .min(1, { error: 'a histogram needs at least one bucket' }),
  errors: count.optional(),
  total: count.optional(),
});

function issueText(key: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '');
  return `${key}: ${where ? `${where}: ` : ''}${issue.message}`;
}

function parseJson(text: string, key: string): Data {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${key}: not JSON (${(err as Error).message})`);
  }
  if (Array.isArray(doc)) {
    const r = SamplesArray.safeParse(doc);
    if (!r.success) throw new InputError(issueText(key, r.error));
    return { kind: 'samples', samples: r.data, errors: 0 };
  }
  if (typeof doc === 'object' && doc !== null && 'samples' in doc) {
    const r = SamplesObject.safeParse(doc);
    if (!r.success) throw new InputError(issueText(key, r.error));
    return { kind: 'samples', samples: r.data.samples, errors: r.data.errors ?? 0 };
  }
  if (typeof doc === 'object' && doc !== null && 'buckets' in doc) {
    const r = HistogramObject.safeParse(doc);
    if (!r.success) throw new InputError(issueText(key, r.error));
    return histogram(r.data, key);
  }
  throw new InputError(`${key}: not a latency file: expected an array of milliseconds, { "samples": [...] } or { "buckets": [...] }`);
}

function histogram(h: z.infer<typeof HistogramObject>, key: string): Data {
  const buckets: Bucket[] = h.buckets.map((b) => ({ le: b.le === '+Inf' ? Infinity : b.le, count: b.count }));
  for (let i = 1; i < buckets.length; i++) {
    const [prev, cur] = [buckets[i - 1]!, buckets[i]!];
    if (cur.le <= prev.le) throw new InputError(`${key}: buckets[${i}].le must be greater than the one before (${prev.le})`);
    if (cur.count < prev.count) {
      throw new InputError(`${key}: buckets[${i}].count ${cur.count} is below the one before (${prev.count}): counts are cumulative (requests that took at most le ms)`);
    }
  }
  const observed = buckets.at(-1)!.count;
  let errors = h.errors ?? 0;
  if (h.total !== undefined) {
    if (h.errors !== undefined && h.total !== observed + h.errors) {
      throw new InputError(`${key}: total ${h.total} is not the ${observed} requests in the buckets plus ${h.errors} errors`);
    }
    if (h.total < observed) throw new InputError(`${key}: total ${h.total} is below the ${observed} requests in the buckets`);
    errors = h.total - observed;
  }
  return { kind: 'histogram', buckets, errors };
}

function parseText(text: string, key: string): Data {
  const samples: number[] = [];
  let errors = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (line.toLowerCase() === 'error') {
      errors += 1;
      return;
    }
    const n = Number(line);
    if (!Number.isFinite(n) || n < 0) throw new InputError(`${key}:${i + 1}: ${JSON.stringify(line)} is not a latency (milliseconds, 0 or more) nor "error"`);
    samples.push(n);
  });
  return { kind: 'samples', samples, errors };
}

/** Reads a latency file in any of the formats above; throws InputError when it is none of them. */
export function parseLatencyData(text: string, key: string): Data {
  return /^\s*[[{]/.test(text) ? parseJson(text, key) : parseText(text, key);
}

// ---------------------------------------------------------------- statistics

/** numpy.percentile(samples, q·100) with the default `linear` method; `sorted` ascending, not empty. */
export function linearPercentile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return a + (h - lo) * (b - a);
}

/** Prometheus' histogram_quantile over cumulative buckets; `overflow` when the rank is in the `+Inf` bucket. */
export function histogramPercentile(buckets: readonly Bucket[], q: number): { value: number; overflow: boolean } {
  const n = buckets.at(-1)!.count;
  const rank = q * n;
  const i = buckets.findIndex((b) => b.count >= rank);
  const bucket = buckets[i]!;
  if (bucket.le === Infinity) return { value: buckets[i - 1]?.le ?? 0, overflow: true };
  const lower = i === 0 ? 0 : buckets[i - 1]!.le;
  const below = i === 0 ? 0 : buckets[i - 1]!.count;
  const inBucket = bucket.count - below;
  if (i === 0 && bucket.le <= 0) return { value: bucket.le, overflow: false };
  return { value: inBucket === 0 ? bucket.le : lower + ((bucket.le - lower) * (rank - below)) / inBucket, overflow: false };
}

// Float noise (12.299999999) would show in evidence and could tip a comparison at the threshold; a
// microsecond of a millisecond is far below what any latency gate means.
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

// ---------------------------------------------------------------- judgement

/**
 * The `latency` validator. `failed` when a percentile or the error rate exceeds its `max`, or a
 * percentile is asked for and no request succeeded; `errored` when the file is missing, holds no
 * request, or is in none of the formats documented above.
 */
export const latencyValidator: Validator<LatencyArgs> = {
  name: 'latency',
  version: '1',
  schema: LatencyArgsSchema,
  async run(args, ctx): Promise<ValidatorOutcome> {
    let inputs: Record<string, Digest> = {};
    let data: Data;
    try {
      const input = await readInput(ctx.baseDir, args.data);
      inputs = { [args.data]: input.digest };
      data = parseLatencyData(input.text, args.data);
    } catch (err) {
      if (err instanceof InputError) return errored(err.message, inputs);
      throw err;
    }

    const successes = data.kind === 'samples' ? data.samples.length : data.buckets.at(-1)!.count;
    const requests = successes + data.errors;
    if (requests === 0) return errored(`${args.data}: holds no request`, inputs);
    ctx.progress({ rows: requests });

    const percentiles: Partial<Record<Percentile, number>> = {};
    const overflow: Percentile[] = [];
    const sorted = data.kind === 'samples' ? [...data.samples].sort((a, b) => a - b) : [];
    if (successes > 0) {
      for (const p of PERCENTILES) {
        if (data.kind === 'samples') {
          percentiles[p] = round(linearPercentile(sorted, QUANTILE[p]));
        } else {
          const r = histogramPercentile(data.buckets, QUANTILE[p]);
          percentiles[p] = round(r.value);
          if (r.overflow) overflow.push(p);
        }
      }
    }
    const errorRate = round(data.errors / requests);
    const measurements = {
      requests,
      errors: data.errors,
      errorRate,
      p50_ms: percentiles.p50 ?? null,
      p95_ms: percentiles.p95 ?? null,
      p99_ms: percentiles.p99 ?? null,
      ...(data.kind === 'samples' && sorted.length > 0 ? { min_ms: sorted[0]!, max_ms: sorted.at(-1)! } : {}),
      method: data.kind === 'samples' ? 'linear' : 'histogram',
      ...(overflow.length > 0 ? { overflow } : {}),
    };
    const thresholds: Record<string, { max: number }> = {};

    const verdicts: { ok: boolean; text: string }[] = [];
    for (const p of PERCENTILES) {
      const limit = args[p];
      if (limit === undefined) continue;
      thresholds[p] = limit;
      const value = percentiles[p];
      if (value === undefined) {
        verdicts.push({ ok: false, text: `no successful request to measure ${p} (all ${requests} failed)` });
      } else if (overflow.includes(p)) {
        verdicts.push({ ok: false, text: `${p} > ${value} ms (beyond the last finite bucket) vs max ${limit.max} ms` });
      } else {
        verdicts.push({ ok: value <= limit.max, text: `${p} ${value} ms ${value <= limit.max ? '≤' : '>'} max ${limit.max} ms` });
      }
    }
    if (args.errorRate !== undefined) {
      thresholds.errorRate = args.errorRate;
      const ok = errorRate <= args.errorRate.max;
      verdicts.push({ ok, text: `error rate ${errorRate} ${ok ? '≤' : '>'} max ${args.errorRate.max} (${data.errors} of ${requests})` });
    }

    const failing = verdicts.filter((v) => !v.ok);
    if (failing.length > 0) return { status: 'failed', summary: failing.map((v) => v.text).join('; '), measurements, thresholds, inputs };
    return { status: 'passed', summary: `${verdicts.map((v) => v.text).join('; ')} over ${requests} requests`, measurements, thresholds, inputs };
  },
};
