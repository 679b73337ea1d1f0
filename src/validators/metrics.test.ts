import path from 'node:path';
import { parse } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import type { ValidatorContext, ValidatorOutcome } from './validator.js';
import { digestFile } from './inputs.js';
import { asMetrics, checkRule, intLiteralsAsDoubles, metricsValidator, readMetricsFile, type MetricsArgs, type RuleResult } from './metrics.js';

const DIR = fixtureDir('metrics');
const PRODUCTION = { release: 'fraud-detector@2.3.0', metrics: { accuracy: 0.95, latency_p95_ms: 45, latency: { p95_ms: 45 } } };

/** A context whose baseline lookup answers from a table, as the service would from the store. */
function contextWith(baselines: Record<string, { release: string; metrics: Record<string, unknown> }> = {}, overrides: Partial<ValidatorContext> = {}) {
  return testContext(DIR, { baselineMetrics: async (ref) => baselines[ref], ...overrides });
}

function run(w: Record<string, unknown>, ctx: ValidatorContext = contextWith({ production: PRODUCTION })): Promise<ValidatorOutcome> {
  return metricsValidator.run(metricsValidator.schema.parse(w) as MetricsArgs, ctx);
}

function rulesOf(out: ValidatorOutcome): RuleResult[] {
  return (out.measurements as { rules: RuleResult[] }).rules;
}

describe('metrics: with', () => {
  it.each([
    [{ rules: ['accuracy >= 0.9'] }, /current must be the path of a metrics JSON file/],
    [{ current: 'm.json' }, /rules must be a list of CEL expressions/],
    [{ current: 'm.json', rules: [] }, /rules must hold at least one rule/],
    [{ current: 'm.json', rules: ['accuracy >'] }, /invalid rule "accuracy >": Unexpected token: EOF at character 11/],
    [{ current: 'm.json', rules: [''] }, /a rule must be a CEL expression/],
    [{ current: 'm.json', rules: ['accuracy >= baseline.accuracy'] }, /reads baseline, but with.baseline is not set/],
    [{ current: 'm.json', rules: ['"a" + 1.0 > 2.0'] }, /invalid rule .*no such overload: string \+ double/],
    [{ current: 'm.json', rules: ['accuracy + 1'] }, /rule "accuracy \+ 1" gives a double, not true or false/],
    [{ current: 'm.json', baseline: 'not a ref', rules: ['accuracy > 0.5'] }, /baseline must be a stage \(production\) or a release/],
    [{ current: 'm.json', rules: ['accuracy > 0.5'], rule: 'x' }, /rule/],
  ])('rejects %j', (w, message) => {
    const r = metricsValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });

  it('accepts a stage or a pinned release as baseline', () => {
    for (const baseline of ['production', 'fraud-detector@2.3.0']) {
      expect(metricsValidator.schema.safeParse({ current: 'm.json', baseline, rules: ['accuracy >= baseline.accuracy'] }).success).toBe(true);
    }
  });

  it('checkRule passes rules over metrics it cannot see yet', () => {
    expect(checkRule('latency_p95_ms <= 50')).toBeUndefined();
    expect(checkRule('metrics["f1-score"] >= 0.8 && has(metrics.auc)')).toBeUndefined();
  });
});

describe('metrics: numbers', () => {
  it.each([
    ['count >= 10', 'count >= 10.0'],
    ['accuracy - 1 > -1', 'accuracy - 1.0 > -1.0'],
    ['0xFF > x && 2u > 1u && "10" != s', '255.0 > x && 2u > 1u && "10" != s'],
    ['accuracy >= 0.9', 'accuracy >= 0.9'],
  ])('reads int literals in %s as doubles', (rule, expected) => {
    expect(intLiteralsAsDoubles(rule, parse(rule).ast)).toBe(expected);
  });

  it('lets every rule mix whole and fractional numbers, on bare names, nested and quoted metrics', async () => {
    const rules = [
      'accuracy >= 0.9',
      'count >= 10',
      'count + 1 > 12',
      'metrics.count / 2 == 6',
      'accuracy > -1',
      'latency.p95_ms <= 50',
      'metrics.latency.p99_ms < 100',
      'metrics["f1-score"] >= 0.8',
      'latency_p95_ms <= 50',
      'has(metrics.auc) && !has(metrics.recall)',
    ];
    const out = await run({ current: 'metrics.json', rules });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('all 10 rules passed');
    expect(rulesOf(out).map((r) => [r.rule, r.outcome, r.values])).toEqual([
      ['accuracy >= 0.9', 'passed', { accuracy: 0.93 }],
      ['count >= 10', 'passed', { count: 12 }],
      ['count + 1 > 12', 'passed', { count: 12 }],
      ['metrics.count / 2 == 6', 'passed', { 'metrics.count': 12 }],
      ['accuracy > -1', 'passed', { accuracy: 0.93 }],
      ['latency.p95_ms <= 50', 'passed', { 'latency.p95_ms': 41 }],
      ['metrics.latency.p99_ms < 100', 'passed', { 'metrics.latency.p99_ms': 80 }],
      ['metrics["f1-score"] >= 0.8', 'passed', { 'metrics["f1-score"]': 0.88 }],
      ['latency_p95_ms <= 50', 'passed', { latency_p95_ms: 41 }],
      ['has(metrics.auc) && !has(metrics.recall)', 'passed', { 'metrics.auc': 0.97, 'metrics.recall': null }],
    ]);
  });
  it('keeps metrics named like CEL types reachable through metrics', async () => {
    const out = await run({ current: 'builtin-names.json', rules: ['metrics.type == 2', 'metrics["int"] == 3', 'size >= 4'] });
    expect(out.status).toBe('passed');
    expect(rulesOf(out).map((r) => r.values)).toEqual([{ 'metrics.type': 2 }, { 'metrics["int"]': 3 }, { size: 4 }]);
  });
});

describe('metrics: against a baseline', () => {
  it('passes, and records the current metrics and the baseline', async () => {
    const out = await run({ current: 'metrics.json', baseline: 'production', rules: ['accuracy >= baseline.accuracy - 0.05'] });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('the rule passed against fraud-detector@2.3.0 (production)');
    expect(out.measurements).toMatchObject({
      metrics: { accuracy: 0.93, count: 12 },
      baseline: { ref: 'production', release: 'fraud-detector@2.3.0', metrics: PRODUCTION.metrics },
    });
    expect(out.thresholds).toEqual({ rules: ['accuracy >= baseline.accuracy - 0.05'], baseline: 'production', whenNoBaseline: 'skip' });
    expect(out.inputs).toEqual({ 'metrics.json': await digestFile(path.join(DIR, 'metrics.json')) });
  });

  it('fails with the values each failed rule compared', async () => {
    const out = await run({ current: 'metrics.json', baseline: 'production', rules: ['accuracy >= baseline.accuracy - 0.01', 'latency_p95_ms <= 50', 'count > 100'] });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('2 of 3 rules failed: accuracy >= baseline.accuracy - 0.01 (accuracy 0.93, baseline.accuracy 0.95); count > 100 (count 12)');
    expect(rulesOf(out)[0]).toEqual({
      rule: 'accuracy >= baseline.accuracy - 0.01',
      outcome: 'failed',
      passed: false,
      values: { accuracy: 0.93, 'baseline.accuracy': 0.95 },
    });
    expect(rulesOf(out)[1]).toMatchObject({ outcome: 'passed', passed: true, values: { latency_p95_ms: 41 } });
  });

  it('skips only the rules that read baseline when no release holds the stage yet (a first release)', async () => {
    const out = await run({ current: 'metrics.json', baseline: 'production', rules: ['accuracy >= baseline.accuracy - 0.01', 'latency_p95_ms <= 50'] }, contextWith());
    expect(out.status).toBe('passed');
    expect(out.summary).toBe(
      '1 of 2 rules passed; 1 not checked (no release holds production yet, so there is no baseline: a first release): accuracy >= baseline.accuracy - 0.01',
    );
    expect(rulesOf(out).map((r) => r.outcome)).toEqual(['skipped', 'passed']);
    expect(rulesOf(out)[0]!.values).toEqual({ accuracy: 0.93 });
  });

  it('errors the rules that read baseline when there is none, with whenNoBaseline: error', async () => {
    const out = await run(
      { current: 'metrics.json', baseline: 'production', whenNoBaseline: 'error', rules: ['accuracy >= baseline.accuracy - 0.01', 'latency_p95_ms <= 50'] },
      contextWith(),
    );
    expect(out.status).toBe('errored');
    expect(out.summary).toBe('1 of 2 rules could not run: accuracy >= baseline.accuracy - 0.01: no release holds production yet, so there is no baseline');
    expect(rulesOf(out).map((r) => r.outcome)).toEqual(['errored', 'passed']);
    // What could be read is still shown.
    expect(rulesOf(out)[0]!.values).toEqual({ accuracy: 0.93 });
    expect(out.measurements).toMatchObject({ baseline: { ref: 'production', release: null, metrics: null } });
  });

  it('still fails on a rule that does not need the baseline', async () => {
    const out = await run({ current: 'metrics.json', baseline: 'production', rules: ['accuracy >= baseline.accuracy', 'latency_p95_ms <= 10'] }, contextWith());
    expect(out.status).toBe('failed');
    expect(out.summary).toBe(
      '1 of 2 rules failed: latency_p95_ms <= 10 (latency_p95_ms 41)',
    );
  });

  it.each([
    ['a pinned release without metrics', 'fraud-detector@1.0.0', {}, 'fraud-detector@1.0.0 has no recorded metrics (or does not exist)'],
    [
      'baseline metrics that are not numbers',
      'production',
      { production: { release: 'fraud-detector@2.3.0', metrics: { accuracy: 'high' } } },
      'the metrics of fraud-detector@2.3.0: accuracy is a string ("high"); every metric must be a number (objects may nest them)',
    ],
    ['a metric the baseline lacks', 'production', { production: PRODUCTION }, 'baseline.auc: no such metric in the baseline (fraud-detector@2.3.0)'],
  ])('errors on %s', async (_what, baseline, baselines, error) => {
    const out = await run({ current: 'metrics.json', baseline, rules: ['auc >= baseline.auc'] }, contextWith(baselines));
    expect(out.status).toBe('errored');
    expect(rulesOf(out)[0]!.error).toBe(error);
  });

  it('errors when the baseline lookup itself fails', async () => {
    const ctx = contextWith({}, {
      baselineMetrics: async () => {
        throw new Error('database is locked');
      },
    });
    const out = await run({ current: 'metrics.json', baseline: 'production', rules: ['accuracy >= baseline.accuracy'] }, ctx);
    expect(rulesOf(out)[0]!.error).toBe('cannot read the baseline production: database is locked');
  });
});

describe('metrics: rules that cannot run', () => {
  it.each([
    ['latency_p99 <= 50', 'metrics.json has no metric latency_p99 (metrics: accuracy, count, latency_p95_ms, latency, f1-score, auc)'],
    ['metrics.latency.p50_ms < 10', 'metrics.latency.p50_ms: no such metric in metrics.json'],
    ['accuracy + 1', 'gives a double, not true or false'],
    ['metrics.accuracy', 'gives 0.93, not true or false'],
    ['accuracy > "a"', 'invalid rule: no such overload: double > string at character 1'],
  ])('%s', async (rule, error) => {
    // Straight to run: `policy check` would already refuse some of these (a rule that is not a
    // condition), and run must still say why rather than throw.
    const out = await metricsValidator.run({ current: 'metrics.json', rules: [rule] }, contextWith());
    expect(out.status).toBe('errored');
    expect(rulesOf(out)[0]!.error).toBe(error);
    expect(out.summary).toBe(`1 of 1 rule could not run: ${rule}: ${error}`);
  });
});

describe('metrics: files', () => {
  it.each([
    ['missing.json', /missing\.json: no such file/],
    ['not-json.json', /^not-json\.json: not valid JSON: /],
    ['bad-value.json', 'bad-value.json: latency.p95 is a string ("12ms"); every metric must be a number (objects may nest them)'],
    ['list.json', 'list.json: metrics must be a JSON object of numbers, e.g. {"accuracy": 0.93}, not a list'],
    ['empty.json', 'empty.json: holds no metrics'],
  ])('%s is errored', async (current, message) => {
    const out = await run({ current, rules: ['accuracy > 0.5'] });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
  });

  it('readMetricsFile gives the metrics and the digest for the service to store', async () => {
    const read = await readMetricsFile(DIR, 'metrics.json');
    expect(read.metrics).toMatchObject({ accuracy: 0.93, latency: { p99_ms: 80 } });
    expect(read.digest).toBe(await digestFile(path.join(DIR, 'metrics.json')));
    expect(read.file).toBe(path.join(DIR, 'metrics.json'));
  });
});

describe('metrics: impossible values (issue 13, finding 9)', () => {
  it.each([
    [{ accuracy: -1, ece: -1 }, /accuracy is -1; accuracy must be between 0 and 1/],
    [{ model: { AUC: 1.5 } }, /model\.AUC is 1\.5; auc must be between 0 and 1/],
    [{ f1: 0.9, ece: 2 }, /ece is 2; ece must be between 0 and 1/],
    [{ latency_p99_ms: -3 }, /latency_p99_ms is -3; a latency must not be negative/],
    [{ latency: { p50: -0.5 } }, /latency\.p50 is -0\.5; a latency must not be negative/],
  ])('refuses %j', (doc, message) => {
    expect(() => asMetrics(doc, 'm.json')).toThrow(message);
  });

  it('accepts the bounds themselves, and leaves metrics of other names alone', () => {
    expect(asMetrics({ accuracy: 0, recall: 1, latency: { p99: 0 }, loss: -2.5, delta_accuracy: -0.1 }, 'm.json')).toMatchObject({ accuracy: 0 });
  });

  it('still refuses non-finite numbers', () => {
    expect(() => asMetrics({ accuracy: Number.NaN }, 'm.json')).toThrow(/every metric must be a number/);
  });
});
