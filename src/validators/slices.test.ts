import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import { quoteLiteral, withDuckDb } from './duckdb.js';
import { digestFile } from './inputs.js';
import { slicesValidator, type GroupMetrics, type SlicesArgs } from './slices.js';
import type { ValidatorOutcome } from './validator.js';

const DIR = fixtureDir('slices');
const ctx = testContext(DIR);

function run(w: Record<string, unknown>): Promise<ValidatorOutcome> {
  return slicesValidator.run(slicesValidator.schema.parse(w) as SlicesArgs, ctx);
}

/**
 * predictions.csv by region, worked out by hand (and checked against a plain Python reference):
 * EU has TP 3, FN 1, FP 1, TN 3; US TP 2, FN 2, FP 0, TN 4; APAC two rows. ECE for EU: bins 9
 * (0.9, 0.95: both positive, mean 0.925 → 2 × 0.075), 8 (0.8, positive → 0.2), 4 (0.4, positive →
 * 0.6), 1, 2, 6 and 0 (negatives → 0.1, 0.2, 0.6, 0.05): 1.9 / 8 = 0.2375.
 */
const BY_REGION: Record<string, GroupMetrics> = {
  APAC: { n: 2, accuracy: 0.5, recall: 1, precision: 0.5, ece: 0.4, judged: false },
  EU: { n: 8, accuracy: 0.75, recall: 0.75, precision: 0.75, ece: 0.2375, judged: true },
  US: { n: 8, accuracy: 0.75, recall: 0.5, precision: 1, ece: 0.23125, judged: true },
};

function expectGroups(actual: unknown, expected: Record<string, GroupMetrics>): void {
  const groups = actual as Record<string, GroupMetrics>;
  expect(Object.keys(groups)).toEqual(Object.keys(expected));
  for (const [name, want] of Object.entries(expected)) {
    const got = groups[name]!;
    expect({ ...got, ece: undefined }).toEqual({ ...want, ece: undefined });
    if (want.ece !== undefined) expect(got.ece).toBeCloseTo(want.ece!, 12);
  }
}

let tmp: string;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-slices-'));
  await withDuckDb((db) =>
    db.all(`COPY (SELECT * FROM read_csv(${quoteLiteral(path.join(DIR, 'predictions.csv'))}, header = true)) TO ${quoteLiteral(path.join(tmp, 'predictions.parquet'))} (FORMAT parquet)`),
  );
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('slices: with', () => {
  it('fills in defaults', () => {
    expect(slicesValidator.schema.parse({ predictions: 'p.csv', group: 'region', thresholds: { accuracy: { min: 0.8 } } })).toEqual({
      predictions: 'p.csv',
      label: 'label',
      prediction: 'prediction',
      group: 'region',
      positive: 1,
      mode: 'intersectional',
      minSupport: 30,
      failOnUnsupported: false,
      thresholds: { accuracy: { min: 0.8 } },
    });
  });

  it.each([
    [{ predictions: 'p.csv', group: 'region' }, /thresholds/],
    [{ predictions: 'p.csv', group: 'region', thresholds: {} }, /thresholds must set at least one of accuracy, recall, precision, ece or gap/],
    [{ predictions: 'p.csv', group: 'region', thresholds: { ece: { max: 0.1 } } }, /ece needs score/],
    [{ predictions: 'p.csv', group: 'region', thresholds: { recall: { min: 1.5 } } }, /recall.min must be at most 1/],
    [{ predictions: 'p.csv', group: 'region', thresholds: { recall: { max: 0.5 } } }, /recall takes \{ min: NUMBER \}, not max/],
    [{ predictions: 'p.csv', group: 'region', thresholds: { f1: { min: 0.5 } } }, /f1/],
    [{ predictions: 'p.json', group: 'region', thresholds: { accuracy: { min: 0.5 } } }, /predictions must be a file ending in \.csv/],
    [{ predictions: 'p.csv', group: 'label', thresholds: { accuracy: { min: 0.5 } } }, /group column label is also the label/],
    [{ predictions: 'p.csv', group: [], thresholds: { accuracy: { min: 0.5 } } }, /group must/],
    [{ predictions: 'p.csv', group: 'region', minSupport: 0, thresholds: { accuracy: { min: 0.5 } } }, /minSupport must be at least 1/],
  ])('rejects %j', (w, message) => {
    const r = slicesValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).toMatch(message);
  });
});

describe('slices: metrics per group', () => {
  const byRegion = { group: 'region', score: 'score', minSupport: 4 };

  it('measures every group, the gaps and the whole population; fails naming the worst group', async () => {
    const out = await run({ predictions: 'predictions.csv', ...byRegion, thresholds: { recall: { min: 0.6 }, ece: { max: 0.3 }, gap: { recall: { max: 0.1 } } } });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('recall 0.5 < min 0.6 in slice US (n=8); recall gap 0.25 > max 0.1 (EU 0.75 vs US 0.5); 1 slice below minSupport 4 not judged (APAC: 2 rows)');
    const m = out.measurements as Record<string, unknown>;
    expectGroups(m.groups, BY_REGION);
    expect(m.rows).toBe(19);
    expect(m.excludedRows).toBe(1);
    expect(m.gaps).toMatchObject({
      accuracy: { gap: 0, best: 'EU', worst: 'US' },
      recall: { gap: 0.25, best: 'EU', worst: 'US' },
      precision: { gap: 0.25, best: 'US', worst: 'EU' },
      ece: { best: 'US', worst: 'EU' },
    });
    expect((m.gaps as { ece: { gap: number } }).ece.gap).toBeCloseTo(0.00625, 12);
    // 18 labelled rows: TP 6, FN 3, FP 2, 13 correct.
    expect(m.overall).toMatchObject({ n: 18, accuracy: 13 / 18, recall: 6 / 9, precision: 0.75 });
    expect((m.overall as { ece: number }).ece).toBeCloseTo(0.2194444444444444, 12);
    expect(out.details).toEqual({
      failures: [
        { metric: 'recall', kind: 'min', threshold: 0.6, value: 0.5, group: 'US' },
        { metric: 'recall', kind: 'gap', threshold: 0.1, value: 0.25, group: 'US', best: 'EU' },
      ],
      notJudged: ['APAC'],
      unsupported: [{ slice: 'APAC', rows: 2 }],
    });
    expect(out.thresholds).toEqual({ recall: { min: 0.6 }, ece: { max: 0.3 }, gap: { recall: { max: 0.1 } }, minSupport: 4, mode: 'intersectional', failOnUnsupported: false });
    expect(out.inputs).toEqual({ 'predictions.csv': await digestFile(path.join(DIR, 'predictions.csv')) });
    expect(ctx.reports.at(-1)).toEqual({ rows: 19 });
  });

  it('gives the same numbers from Parquet', async () => {
    const out = await run({ predictions: path.join(tmp, 'predictions.parquet'), ...byRegion, thresholds: { accuracy: { min: 0.7 } } });
    expectGroups((out.measurements as { groups: unknown }).groups, BY_REGION);
  });

  it('passes, naming the worst group of each threshold', async () => {
    const out = await run({
      predictions: 'predictions.csv',
      ...byRegion,
      thresholds: { accuracy: { min: 0.7 }, precision: { min: 0.7 }, ece: { max: 0.25 }, gap: { accuracy: { max: 0.05 } } },
    });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe(
      '2 slices judged: worst accuracy 0.75 ≥ min 0.7 (EU); worst precision 0.75 ≥ min 0.7 (EU); worst ece 0.2375 ≤ max 0.25 (EU); accuracy gap 0 ≤ max 0.05 (EU 0.75 vs US 0.75); 1 slice below minSupport 4 not judged (APAC: 2 rows)',
    );
  });

  it('fails on calibration: ECE above max', async () => {
    const out = await run({ predictions: 'predictions.csv', ...byRegion, thresholds: { ece: { max: 0.235 } } });
    expect(out.status).toBe('failed');
    expect(out.summary).toMatch(/^ece 0\.2375 > max 0\.235 in slice EU \(n=8\)/);
  });

  it('groups by several columns, each combination a group', async () => {
    const out = await run({ predictions: 'predictions.csv', group: ['sex', 'age_band'], minSupport: 4, thresholds: { accuracy: { min: 0.6 } } });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('accuracy 0.4 < min 0.6 in slice sex=F, age_band=40+ (n=5; 1 more slice below)');
    const groups = (out.measurements as { groups: Record<string, GroupMetrics> }).groups;
    expect(Object.fromEntries(Object.entries(groups).map(([k, g]) => [k, [g.n, g.accuracy]]))).toEqual({
      'sex=F, age_band=18-39': [4, 1],
      'sex=F, age_band=40+': [5, 0.4],
      'sex=M, age_band=18-39': [5, 1],
      'sex=M, age_band=40+': [4, 0.5],
    });
    expect((out.details as { failures: { group: string }[] }).failures.map((f) => f.group)).toEqual(['sex=F, age_band=40+', 'sex=M, age_band=40+']);
  });

  it('takes a named positive class, and compares labels as classes', async () => {
    const out = await run({ predictions: 'labels.csv', group: 'site', positive: 'fraud', minSupport: 1, thresholds: { recall: { min: 0.6 } } });
    expect(out.summary).toBe('recall 0.5 < min 0.6 in slice north (n=3)');
    expect((out.measurements as { groups: unknown }).groups).toEqual({
      north: { n: 3, accuracy: 2 / 3, recall: 0.5, precision: 1, judged: true },
      south: { n: 3, accuracy: 2 / 3, recall: 1, precision: 0.5, judged: true },
    });
  });

  it('leaves a group without positives out of recall, and names null groups', async () => {
    const out = await run({ predictions: 'skewed.csv', group: 'region', minSupport: 1, thresholds: { recall: { min: 0.4 } } });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('3 slices judged: worst recall 0.5 ≥ min 0.4 (A)');
    expect((out.measurements as { groups: unknown }).groups).toEqual({
      '(null)': { n: 1, accuracy: 1, recall: null, precision: null, judged: true },
      A: { n: 3, accuracy: 2 / 3, recall: 0.5, precision: 1, judged: true },
      B: { n: 1, accuracy: 0, recall: null, precision: 0, judged: true },
    });
  });
});

describe('slices: cannot judge', () => {
  it.each([
    [{ predictions: 'missing.csv', group: 'region' }, /missing\.csv: no such file/],
    [{ predictions: 'predictions.csv', group: 'country' }, 'predictions.csv has no column "country" (columns: id, label, prediction, score, region, sex, age_band)'],
    [{ predictions: 'predictions.csv', group: 'region', label: 'y' }, /has no column "y"/],
    [{ predictions: 'bad-score.csv', group: 'region', score: 'score' }, 'bad-score.csv: 2 value(s) of score are not probabilities from 0 to 1 (first: 1.2)'],
    [{ predictions: 'labels.csv', group: 'site' }, 'labels.csv: no label is the positive class 1 (labels: fraud, legit); set positive'],
    [{ predictions: 'predictions.csv', group: 'region', minSupport: 30 }, 'no slice has minSupport 30 rows to judge (largest: EU with 8); 3 slices below minSupport 30 not judged (APAC: 2 rows; EU: 8 rows; US: 8 rows)'],
    [
      { predictions: 'skewed.csv', group: 'region', minSupport: 2, thresholds: { gap: { recall: { max: 0.1 } } } },
      'could not judge recall gap: fewer than two slices with minSupport 2 rows and a recall; 2 slices below minSupport 2 not judged ((null): 1 row; B: 1 row)',
    ],
  ])('%j is errored', async (w, message) => {
    const out = await run({ thresholds: { recall: { min: 0.5 } }, ...w });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
  });
});
