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

  it('takes a baseline without thresholds, and fills in mode and failOnUnsupported', () => {
    expect(slicesValidator.schema.parse({ predictions: 'p.csv', group: ['sex', 'age_band'], baseline: { predictions: 'b.parquet', maxDrop: { recall: 0.05 } } })).toMatchObject({
      mode: 'intersectional',
      failOnUnsupported: false,
      baseline: { predictions: 'b.parquet', maxDrop: { recall: 0.05 } },
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
    [{ predictions: 'p.csv', group: ['a', 'b'], mode: 'cross', thresholds: { accuracy: { min: 0.5 } } }, /^mode: mode must be intersectional \(.*\) or per-attribute/],
    [{ predictions: 'p.csv', group: 'region', failOnUnsupported: 'yes', thresholds: { accuracy: { min: 0.5 } } }, /^failOnUnsupported: failOnUnsupported must be true or false$/],
    [{ predictions: 'p.csv', group: 'region', baseline: 'production' }, /^baseline: baseline takes \{ predictions: FILE, maxDrop/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'b.csv' } }, /^baseline\.maxDrop: baseline\.maxDrop takes the largest drop allowed per metric/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'b.csv', maxDrop: {} } }, /^baseline\.maxDrop: baseline\.maxDrop must set at least one of accuracy, recall, precision or ece$/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'b.csv', maxDrop: { recall: 1.5 } } }, /^baseline\.maxDrop\.recall: baseline\.maxDrop\.recall must be at most 1$/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'b.csv', maxDrop: { recall: '5%' } } }, /^baseline\.maxDrop\.recall: baseline\.maxDrop\.recall must be a number from 0 to 1$/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'b.csv', maxDrop: { f1: 0.1 } } }, /^baseline\.maxDrop: baseline\.maxDrop takes/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'b.json', maxDrop: { recall: 0.1 } } }, /^baseline\.predictions: baseline\.predictions must be a file ending in \.csv/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'p.csv', maxDrop: { recall: 0.1 } } }, /^baseline\.predictions: baseline\.predictions is the predictions file itself/],
    [{ predictions: 'p.csv', group: 'region', baseline: { predictions: 'b.csv', maxDrop: { ece: 0.1 } } }, /^baseline\.maxDrop\.ece: ece needs score/],
    [{ predictions: 'p.csv', group: 'region', failOnUnsupported: true }, /^thresholds: set thresholds, baseline \(with maxDrop\), or both/],
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

/**
 * cohorts.csv (73 labelled rows of 75) and cohorts-baseline.csv (the same rows, the baseline model's
 * predictions), written by make-cohorts.py. The figures are reference.py's, computed with pandas;
 * `[n, accuracy, recall, precision, ece]` per slice.
 */
type Figures = readonly [number, number, number | null, number | null, number];
const COHORTS_PER_ATTRIBUTE: Record<string, Figures> = {
  'site=east': [7, 1.0, 1.0, 1.0, 0.26],
  'site=north': [37, 0.8648648648648649, 0.8888888888888888, 0.8421052631578947, 0.28054054054054056],
  'site=south': [29, 0.6206896551724138, 0.6, 0.6428571428571429, 0.1879310344827587],
  'sex=F': [40, 0.775, 0.85, 0.7391304347826086, 0.22024999999999995],
  'sex=M': [33, 0.7878787878787878, 0.6666666666666666, 0.8333333333333334, 0.17333333333333334],
  'age_band=18-39': [33, 0.7272727272727273, 0.6153846153846154, 0.6666666666666666, 0.16909090909090904],
  'age_band=40-64': [26, 0.8846153846153846, 0.9230769230769231, 0.8571428571428571, 0.26076923076923075],
  'age_band=65+': [14, 0.7142857142857143, 0.7777777777777778, 0.7777777777777778, 0.2521428571428571],
};
const BASELINE_PER_ATTRIBUTE: Record<string, Figures> = {
  'site=east': [7, 1.0, 1.0, 1.0, 0.26714285714285707],
  'site=north': [37, 0.8378378378378378, 0.8888888888888888, 0.8, 0.15405405405405406],
  'site=south': [29, 0.9310344827586207, 1.0, 0.8823529411764706, 0.18655172413793103],
  'sex=F': [40, 0.875, 0.95, 0.8260869565217391, 0.20250000000000004],
  'sex=M': [33, 0.9090909090909091, 0.9333333333333333, 0.875, 0.1490909090909091],
  'age_band=18-39': [33, 0.8787878787878788, 0.9230769230769231, 0.8, 0.2509090909090909],
  'age_band=40-64': [26, 0.8461538461538461, 0.9230769230769231, 0.8, 0.20038461538461538],
  'age_band=65+': [14, 1.0, 1.0, 1.0, 0.22928571428571431],
};
const COHORTS_SITE_AGE: Record<string, Figures> = {
  'site=east, age_band=18-39': [5, 1.0, null, null, 0.20799999999999996],
  'site=east, age_band=40-64': [2, 1.0, 1.0, 1.0, 0.39],
  'site=north, age_band=18-39': [15, 0.8666666666666667, 0.8333333333333334, 0.8333333333333334, 0.27266666666666667],
  'site=north, age_band=40-64': [13, 0.9230769230769231, 1.0, 0.8571428571428571, 0.32230769230769235],
  'site=north, age_band=65+': [9, 0.7777777777777778, 0.8333333333333334, 0.8333333333333334, 0.3266666666666666],
  'site=south, age_band=18-39': [13, 0.46153846153846156, 0.42857142857142855, 0.5, 0.3146153846153846],
  'site=south, age_band=40-64': [11, 0.8181818181818182, 0.8, 0.8, 0.3281818181818182],
  'site=south, age_band=65+': [5, 0.6, 0.6666666666666666, 0.6666666666666666, 0.334],
};

function expectFigures(actual: unknown, expected: Record<string, Figures>, minSupport: number): void {
  const slices = actual as Record<string, GroupMetrics>;
  expect(Object.keys(slices)).toEqual(Object.keys(expected));
  for (const [name, [n, accuracy, recall, precision, ece]] of Object.entries(expected)) {
    const got = slices[name]!;
    expect(got.n, name).toBe(n);
    expect(got.judged, name).toBe(n >= minSupport);
    expect(got.accuracy, name).toBeCloseTo(accuracy, 12);
    for (const [key, want] of [['recall', recall], ['precision', precision]] as const) {
      if (want === null) expect(got[key], `${name} ${key}`).toBeNull();
      else expect(got[key], `${name} ${key}`).toBeCloseTo(want, 12);
    }
    expect(got.ece, name).toBeCloseTo(ece, 12);
  }
}

const cohorts = { predictions: 'cohorts.csv', score: 'score' };

describe('slices: modes', () => {
  it('per-attribute: each column on its own, the gap within one column, the small slice listed with its rows', async () => {
    const out = await run({ ...cohorts, group: ['site', 'sex', 'age_band'], mode: 'per-attribute', minSupport: 10, thresholds: { recall: { min: 0.62 }, gap: { recall: { max: 0.3 } } } });
    expect(out.status).toBe('failed');
    // The widest recall gap over all slices would be age_band=40-64 vs site=south (0.3231): two
    // columns' slices are not compared, so it is age_band=40-64 vs age_band=18-39.
    expect(out.summary).toBe(
      'recall 0.6 < min 0.62 in slice site=south (n=29; 1 more slice below); recall gap 0.3077 > max 0.3 (age_band=40-64 0.9231 vs age_band=18-39 0.6154); 1 slice below minSupport 10 not judged (site=east: 7 rows)',
    );
    const m = out.measurements as Record<string, any>;
    expectFigures(m.groups, COHORTS_PER_ATTRIBUTE, 10);
    expect(m).toMatchObject({ rows: 75, excludedRows: 2, mode: 'per-attribute', unsupported: 1 });
    expect(m.gaps.recall).toMatchObject({ best: 'age_band=40-64', worst: 'age_band=18-39' });
    expect(m.gaps.recall.gap).toBeCloseTo(0.9230769230769231 - 0.6153846153846154, 12);
    expect(m.overall.accuracy).toBeCloseTo(0.7808219178082192, 12);
    expect(m.overall.ece).toBeCloseTo(0.1724657534246576, 12);
    expect((out.details as any).unsupported).toEqual([{ slice: 'site=east', rows: 7 }]);
    expect((out.details as any).failures.map((f: any) => [f.kind, f.group])).toEqual([
      ['min', 'site=south'],
      ['min', 'age_band=18-39'],
      ['gap', 'age_band=18-39'],
    ]);
  });

  it('intersectional is the default for a list: each combination a slice, an empty one reported with 0 rows', async () => {
    const w = { ...cohorts, group: ['site', 'age_band'], minSupport: 8, thresholds: { accuracy: { min: 0.5 } } };
    const out = await run(w);
    expect(out.status).toBe('failed');
    expect(out.summary).toBe(
      'accuracy 0.4615 < min 0.5 in slice site=south, age_band=18-39 (n=13); 4 slices below minSupport 8 not judged (site=east, age_band=18-39: 5 rows; site=east, age_band=40-64: 2 rows; site=south, age_band=65+: 5 rows; site=east, age_band=65+: 0 rows)',
    );
    expectFigures((out.measurements as any).groups, COHORTS_SITE_AGE, 8);
    expect((out.measurements as any).mode).toBe('intersectional');
    expect((out.details as any).unsupported).toEqual([
      { slice: 'site=east, age_band=18-39', rows: 5 },
      { slice: 'site=east, age_band=40-64', rows: 2 },
      { slice: 'site=south, age_band=65+', rows: 5 },
      { slice: 'site=east, age_band=65+', rows: 0 },
    ]);
    const explicit = await run({ ...w, mode: 'intersectional' });
    expect(explicit.summary).toBe(out.summary);
    expect(explicit.measurements).toEqual(out.measurements);
  });

  it('lists every intersection no row falls in, over three columns', async () => {
    const out = await run({ ...cohorts, group: ['site', 'sex', 'age_band'], minSupport: 1, thresholds: { accuracy: { min: 0.2 } } });
    expect(out.status).toBe('passed');
    expect(Object.keys((out.measurements as any).groups)).toHaveLength(15);
    expect((out.details as any).unsupported).toEqual([
      { slice: 'site=east, sex=F, age_band=65+', rows: 0 },
      { slice: 'site=east, sex=M, age_band=40-64', rows: 0 },
      { slice: 'site=east, sex=M, age_band=65+', rows: 0 },
    ]);
    expect(out.summary).toMatch(/; 3 slices below minSupport 1 not judged \(site=east, sex=F, age_band=65\+: 0 rows; site=east, sex=M, age_band=40-64: 0 rows; site=east, sex=M, age_band=65\+: 0 rows\)$/);
  });

  it('with one group column the modes are the same', async () => {
    const a = await run({ ...cohorts, group: 'site', minSupport: 10, thresholds: { accuracy: { min: 0.5 } } });
    const b = await run({ ...cohorts, group: 'site', mode: 'per-attribute', minSupport: 10, thresholds: { accuracy: { min: 0.5 } } });
    expect(a.summary).toBe('2 slices judged: worst accuracy 0.6207 ≥ min 0.5 (south); 1 slice below minSupport 10 not judged (east: 7 rows)');
    expect(b.summary).toBe(a.summary);
    // One column's slices are named by the value alone, in either mode.
    const bySite = Object.fromEntries(['east', 'north', 'south'].map((v) => [v, COHORTS_PER_ATTRIBUTE[`site=${v}`]!]));
    expectFigures((a.measurements as any).groups, bySite, 10);
    expectFigures((b.measurements as any).groups, bySite, 10);
  });
});

describe('slices: failOnUnsupported', () => {
  const w = { ...cohorts, group: ['site', 'age_band'], minSupport: 8, thresholds: { accuracy: { min: 0.4 } } };

  it('passes with the slices below minSupport reported when it is off (the default)', async () => {
    const out = await run(w);
    expect(out.status).toBe('passed');
    expect(out.summary).toMatch(/^5 slices judged: worst accuracy 0\.4615 ≥ min 0\.4 \(site=south, age_band=18-39\); 4 slices below minSupport 8 not judged \(/);
  });

  it('fails naming each slice below minSupport when it is on', async () => {
    const out = await run({ ...w, failOnUnsupported: true });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe(
      'failOnUnsupported: 4 slices below minSupport 8 (site=east, age_band=18-39: 5 rows; site=east, age_band=40-64: 2 rows; site=south, age_band=65+: 5 rows; site=east, age_band=65+: 0 rows)',
    );
    expect((out.details as any).failures).toEqual([
      { kind: 'unsupported', threshold: 8, value: 5, group: 'site=east, age_band=18-39' },
      { kind: 'unsupported', threshold: 8, value: 2, group: 'site=east, age_band=40-64' },
      { kind: 'unsupported', threshold: 8, value: 5, group: 'site=south, age_band=65+' },
      { kind: 'unsupported', threshold: 8, value: 0, group: 'site=east, age_band=65+' },
    ]);
    expect(out.thresholds).toMatchObject({ minSupport: 8, failOnUnsupported: true });
  });

  it('passes when every slice has minSupport rows', async () => {
    const out = await run({ ...cohorts, group: 'site', minSupport: 7, failOnUnsupported: true, thresholds: { accuracy: { min: 0.4 } } });
    expect(out.status).toBe('passed');
    expect((out.details as any).unsupported).toEqual([]);
  });

  it('fails, not errors, when no slice has minSupport rows', async () => {
    const out = await run({ predictions: 'predictions.csv', group: 'region', minSupport: 30, failOnUnsupported: true, thresholds: { accuracy: { min: 0.5 } } });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('no slice has minSupport 30 rows to judge (largest: EU with 8); failOnUnsupported: 3 slices below minSupport 30 (APAC: 2 rows; EU: 8 rows; US: 8 rows)');
  });
});

describe('slices: against a baseline', () => {
  const w = { ...cohorts, group: ['site', 'sex', 'age_band'], mode: 'per-attribute', minSupport: 10 };

  it('fails when a slice dropped more than maxDrop from the same slice in the baseline', async () => {
    const out = await run({ ...w, baseline: { predictions: 'cohorts-baseline.csv', maxDrop: { recall: 0.3 } } });
    expect(out.status).toBe('failed');
    // south 1 → 0.6 (0.4) and age_band=18-39 0.9231 → 0.6154 (0.3077) are above 0.3; sex=M's 0.2667 is not.
    expect(out.summary).toBe('recall drop from the baseline 0.4 > maxDrop 0.3 in slice site=south (1 → 0.6, n=29; 1 more slice); 1 slice below minSupport 10 not judged (site=east: 7 rows)');
    expect((out.details as any).failures.map((f: any) => [f.kind, f.metric, f.group])).toEqual([
      ['drop', 'recall', 'site=south'],
      ['drop', 'recall', 'age_band=18-39'],
    ]);
    const baseline = (out.measurements as any).baseline;
    expectFigures(baseline.groups, BASELINE_PER_ATTRIBUTE, 10);
    // Each judged slice's drop, from the two files' pandas figures.
    for (const [name, [, , recall]] of Object.entries(COHORTS_PER_ATTRIBUTE)) {
      if (name === 'site=east') {
        expect(baseline.drops[name]).toBeUndefined();
        continue;
      }
      const before = BASELINE_PER_ATTRIBUTE[name]![2]!;
      expect(baseline.drops[name].recall.drop, name).toBeCloseTo(before - recall!, 12);
    }
    expect(out.inputs).toEqual({
      'cohorts.csv': await digestFile(path.join(DIR, 'cohorts.csv')),
      'cohorts-baseline.csv': await digestFile(path.join(DIR, 'cohorts-baseline.csv')),
    });
    expect(out.thresholds).toMatchObject({ baseline: { predictions: 'cohorts-baseline.csv', maxDrop: { recall: 0.3 } } });
  });

  it('passes when every drop is within maxDrop; a rise in ece is its drop', async () => {
    const out = await run({ ...w, baseline: { predictions: 'cohorts-baseline.csv', maxDrop: { recall: 0.45, ece: 0.13 } } });
    expect(out.status).toBe('passed');
    // ece rose most in site=north: 0.1541 → 0.2805.
    expect(out.summary).toBe(
      '7 slices judged: largest recall drop from the baseline 0.4 ≤ maxDrop 0.45 (site=south: 1 → 0.6); largest ece rise from the baseline 0.1265 ≤ maxDrop 0.13 (site=north: 0.1541 → 0.2805); 1 slice below minSupport 10 not judged (site=east: 7 rows)',
    );
    const drops = (out.measurements as any).baseline.drops;
    expect(drops['site=north'].ece.drop).toBeCloseTo(0.28054054054054056 - 0.15405405405405406, 12);
    expect(drops['age_band=18-39'].ece.drop).toBeCloseTo(0.16909090909090904 - 0.2509090909090909, 12);
  });

  it('fails on an ece rise above maxDrop', async () => {
    const out = await run({ ...w, baseline: { predictions: 'cohorts-baseline.csv', maxDrop: { ece: 0.1 } } });
    expect(out.status).toBe('failed');
    expect(out.summary).toMatch(/^ece rise from the baseline 0\.1265 > maxDrop 0\.1 in slice site=north \(0\.1541 → 0\.2805, n=37\)/);
  });

  it('needs no thresholds beside it, and reports a slice the baseline lacks', async () => {
    const out = await run({ ...cohorts, group: 'site', minSupport: 5, baseline: { predictions: 'cohorts-baseline-no-east.csv', maxDrop: { accuracy: 0.35 } } });
    expect(out.status).toBe('passed');
    // accuracy: south 0.9310 → 0.6207 is the largest drop.
    expect(out.summary).toBe('3 slices judged: largest accuracy drop from the baseline 0.3103 ≤ maxDrop 0.35 (south: 0.931 → 0.6207); 1 slice not compared with the baseline (east: not in the baseline)');
    expect((out.details as any).baseline).toEqual({ notCompared: [{ slice: 'east', reason: 'not in the baseline' }] });
  });

  it('is errored when the baseline file is missing', async () => {
    const out = await run({ ...w, baseline: { predictions: 'no-such-baseline.csv', maxDrop: { recall: 0.1 } } });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(/no-such-baseline\.csv: no such file/);
  });
});
