import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import { digestFile } from './inputs.js';
import { expandReportPaths, formatRate, junitValidator, type JunitArgs } from './junit.js';

const DIR = fixtureDir('junit');
const ctx = testContext(DIR);

function run(w: Record<string, unknown>) {
  return junitValidator.run(junitValidator.schema.parse(w) as JunitArgs, ctx);
}

describe('junit: schema', () => {
  it('defaults minPassRate to 1 and leaves maxSkipped unlimited', () => {
    expect(junitValidator.schema.parse({ report: 'a.xml' })).toEqual({ report: 'a.xml', minPassRate: 1 });
  });

  it.each([
    [{}, /report must be a path or glob/],
    [{ report: '' }, /report must not be empty/],
    [{ report: [] }, /report must name at least one file/],
    [{ report: 'a.xml', minPassRate: 1.5 }, /minPassRate must be at most 1/],
    [{ report: 'a.xml', minPassRate: '0.9' }, /minPassRate must be a number from 0 to 1/],
    [{ report: 'a.xml', maxSkipped: 1.5 }, /maxSkipped must be a whole number/],
    [{ report: 'a.xml', maxSkipped: -1 }, /maxSkipped must be 0 or more/],
    [{ report: 'a.xml', minPasRate: 0.9 }, /minPasRate/],
  ])('rejects %j', (w, message) => {
    const r = junitValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });
});

describe('junit: counting', () => {
  it('passes a <testsuites> report with nested suites and a skipped test', async () => {
    const out = await run({ report: 'pass.xml' });
    expect(out.status).toBe('passed');
    expect(out.measurements).toEqual({ tests: 5, passed: 4, failures: 0, errors: 0, skipped: 1, passRate: 1, files: 1 });
    expect(out.thresholds).toEqual({ minPassRate: 1 });
    expect(out.summary).toBe('4 tests passed, 1 skipped (pass rate 1 ≥ min 1)');
    expect(out.inputs).toEqual({ 'pass.xml': await digestFile(path.join(DIR, 'pass.xml')) });
  });

  it('counts a bare <testsuite>: failure, error, skipped, a rerun that passed', async () => {
    const out = await run({ report: 'bare-suite.xml' });
    expect(out.status).toBe('failed');
    expect(out.measurements).toEqual({ tests: 6, passed: 3, failures: 1, errors: 1, skipped: 1, passRate: 0.6, files: 1 });
    expect(out.summary).toBe(
      '2 of 5 tests failed (1 failure, 1 error): pass rate 0.6 < min 1; first: com.example.FraudTest.scoresHighRisk: expected 0.9 but was 0.4',
    );
    expect((out.details as { failing: unknown[] }).failing).toEqual([
      { name: 'com.example.FraudTest.scoresHighRisk', kind: 'failure', message: 'expected 0.9 but was 0.4', file: 'bare-suite.xml' },
      { name: 'com.example.FraudTest.loadsModel', kind: 'error', message: 'model.onnx not found\n    at Loader.java:10', file: 'bare-suite.xml' },
    ]);
  });

  it('passes below 1 when minPassRate allows it, and says so', async () => {
    const out = await run({ report: 'bare-suite.xml', minPassRate: 0.6 });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('3 of 5 tests passed, 1 skipped: pass rate 0.6 ≥ min 0.6');
  });

  it('uses the totals of suites that list no test cases', async () => {
    const out = await run({ report: 'totals-only.xml', minPassRate: 0.9 });
    expect(out.measurements).toEqual({ tests: 15, passed: 11, failures: 1, errors: 0, skipped: 3, passRate: 11 / 12, files: 1 });
    expect(out.status).toBe('passed');
  });

  it('fails when more tests were skipped than allowed', async () => {
    const out = await run({ report: 'totals-only.xml', minPassRate: 0.9, maxSkipped: 2 });
    expect(out.status).toBe('failed');
    expect(out.summary).toBe('3 tests skipped > max 2');
    expect(out.thresholds).toEqual({ minPassRate: 0.9, maxSkipped: 2 });
  });

  it('fails when no test ran', async () => {
    const empty = await run({ report: 'empty.xml' });
    expect(empty.status).toBe('failed');
    expect(empty.summary).toBe('no test ran: the report holds 0 tests');
    expect(empty.measurements).toMatchObject({ tests: 0, passRate: null });
    const skipped = await run({ report: 'all-skipped.xml' });
    expect(skipped.status).toBe('failed');
    expect(skipped.summary).toBe('no test ran: all 2 tests were skipped');
  });

  it('keeps the first 20 failing tests and counts the rest', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-junit-'));
    const cases = Array.from({ length: 25 }, (_, i) => `<testcase name="t${i}"><failure message="m${i}"/></testcase>`).join('');
    fs.writeFileSync(path.join(dir, 'many.xml'), `<testsuite name="s">${cases}<testcase name="ok"/></testsuite>`);
    const out = await junitValidator.run({ report: 'many.xml', minPassRate: 1 }, testContext(dir));
    const details = out.details as { failing: { name: string }[]; failingNotShown: number };
    expect(details.failing).toHaveLength(20);
    expect(details.failing[19]!.name).toBe('s.t19');
    expect(details.failingNotShown).toBe(5);
    expect(out.summary).toMatch(/^25 of 26 tests failed \(25 failures, 0 errors\): pass rate 0\.0385 < min 1; first: s\.t0: m0$/);
  });
});

describe('junit: report files', () => {
  it('matches a glob in linear time: a*a*…b against a long name is a backtracking engine\'s worst case (issue 13, finding 3)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-junit-glob-'));
    try {
      fs.writeFileSync(path.join(dir, `${'a'.repeat(200)}.xml`), '<testsuite/>');
      const started = Date.now();
      expect(() => expandReportPaths(dir, `${'a*'.repeat(30)}b`)).toThrow(/no file matches/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('expands a wildcard in the file name, sorted, skipping hidden files and other names', async () => {
    const out = await run({ report: 'shards/junit-*.xml', minPassRate: 0.75 });
    expect(out.status).toBe('passed');
    expect(out.measurements).toMatchObject({ tests: 4, passed: 3, failures: 1, files: 2 });
    expect(Object.keys(out.inputs)).toEqual(['shards/junit-1.xml', 'shards/junit-2.xml']);
  });

  it('accepts a list of paths and globs, each file once', () => {
    expect(expandReportPaths(DIR, ['shards/junit-?.xml', 'shards/junit-1.xml', 'pass.xml']).map((f) => f.key)).toEqual([
      'shards/junit-1.xml',
      'shards/junit-2.xml',
      'pass.xml',
    ]);
  });

  it('expands an absolute pattern, keyed by the absolute path', () => {
    expect(expandReportPaths('/elsewhere', `${DIR}/shards/junit-*.xml`)).toEqual([
      { key: `${DIR}/shards/junit-1.xml`, file: path.join(DIR, 'shards/junit-1.xml') },
      { key: `${DIR}/shards/junit-2.xml`, file: path.join(DIR, 'shards/junit-2.xml') },
    ]);
  });

  it.each([
    [{ report: 'missing.xml' }, /missing\.xml: no such file/],
    [{ report: 'shards/*.json' }, /^shards\/\*\.json: no file matches$/],
    [{ report: 'nowhere/*.xml' }, /^nowhere\/\*\.xml: no such folder/],
    [{ report: '*/junit.xml' }, /wildcards are allowed only in the file name/],
    [{ report: 'truncated.xml' }, /^truncated\.xml: not well-formed XML at line \d+, column \d+/],
    [{ report: 'not-junit.xml' }, /^not-junit\.xml: not a JUnit report: the root element is <html>, expected <testsuites> or <testsuite>$/],
    [{ report: 'bad-count.xml' }, /^bad-count\.xml: attribute tests="many" is not a count$/],
    [{ report: 'shards/notes.txt' }, /not well-formed XML|not a JUnit report/],
    // Found by test/fuzz.parsers.test.ts: XMLValidator accepts it, XMLParser throws.
    [{ report: 'unclosed-comment.xml' }, /^unclosed-comment\.xml: not well-formed XML: Comment is not closed/],
  ])('errors on %j', async (w, message) => {
    const out = await run(w);
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
  });

  it('keeps the digests of the files read before the one that errored', async () => {
    const out = await run({ report: ['pass.xml', 'truncated.xml'] });
    expect(out.status).toBe('errored');
    expect(Object.keys(out.inputs)).toEqual(['pass.xml', 'truncated.xml']);
  });
});

describe('formatRate', () => {
  it('shows enough digits to differ from the threshold', () => {
    expect(formatRate(0.6, 1)).toBe('0.6');
    expect(formatRate(119_999 / 120_000, 1)).toBe('0.99999');
    expect(formatRate(0.95, 0.95)).toBe('0.95');
  });
});
