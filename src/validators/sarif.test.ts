import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureDir, testContext } from '../../test/fixtures/validators/context.js';
import { digestFile } from './inputs.js';
import { sarifValidator, type Finding, type SarifArgs } from './sarif.js';

const DIR = fixtureDir('sarif');
const ctx = testContext(DIR);

function run(w: Record<string, unknown>, c = ctx) {
  return sarifValidator.run(sarifValidator.schema.parse(w) as SarifArgs, c);
}

function findingsOf(details: unknown): Finding[] {
  return (details as { findings: Finding[] }).findings;
}

describe('sarif: schema', () => {
  it('defaults failOn to [error]', () => {
    expect(sarifValidator.schema.parse({ report: 'a.sarif' })).toEqual({ report: 'a.sarif', failOn: ['error'] });
  });

  it.each([
    [{ report: 'a.sarif', failOn: ['critical'] }, /failOn holds SARIF levels: error, warning or note/],
    [{ report: 'a.sarif', failOn: 'error' }, /failOn must be a list of levels/],
    [{ report: 'a.sarif', rules: 'py/x' }, /rules must be a list of rule ids/],
    [{ report: 'a.sarif', failOn: [] }, /nothing could fail/],
    [{ report: 'a.sarif', level: 'error' }, /level/],
  ])('rejects %j', (w, message) => {
    const r = sarifValidator.schema.safeParse(w);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join('\n')).toMatch(message);
  });
});

describe('sarif: levels and findings', () => {
  it('resolves levels as SARIF does and fails on an error', async () => {
    const out = await run({ report: 'findings.sarif' });
    expect(out.status).toBe('failed');
    expect(out.measurements).toEqual({ error: 1, warning: 2, note: 1, none: 1, total: 5, suppressed: 1, failing: 1, files: 1 });
    expect(out.thresholds).toEqual({ failOn: ['error'] });
    expect(out.summary).toBe('1 finding at level error (max 0); first: py/sql-injection error at app/db.py:42: Query built from user input');
    expect(out.inputs).toEqual({ 'findings.sarif': await digestFile(path.join(DIR, 'findings.sarif')) });
    expect(findingsOf(out.details)).toEqual([
      // failing first; then by level; suppressed last. The `absent` (fixed) result is not a finding.
      { ruleId: 'py/sql-injection', level: 'error', message: 'Query built from user input', location: 'app/db.py:42', file: 'findings.sarif', failing: true },
      // explicit level wins over the rule's default (note); message from messageStrings with arguments; uri through artifacts[0]
      { ruleId: 'py/weak-hash', level: 'warning', message: 'Weak hash md5 used for tokens', location: 'app/auth.py:7', file: 'findings.sarif' },
      // no level anywhere: warning
      { ruleId: 'py/unused-import', level: 'warning', message: 'os is imported but unused', location: 'app/main.py', file: 'findings.sarif' },
      // the invocation's override (note) wins over the rule's default (warning); a logical location
      { ruleId: 'MS001', level: 'note', message: 'Pickle opcode in model file', location: 'model.onnx/layer3', file: 'findings.sarif' },
      // kind pass without a level: none
      { ruleId: 'py/sql-injection', level: 'none', message: 'Parameterized query', file: 'findings.sarif' },
      { ruleId: 'py/sql-injection', level: 'error', message: 'Reviewed: constant query', file: 'findings.sarif', suppressed: true },
    ]);
  });

  it('fails on every level listed in failOn', async () => {
    const out = await run({ report: 'findings.sarif', failOn: ['error', 'warning'] });
    expect(out.status).toBe('failed');
    expect(out.measurements).toMatchObject({ failing: 3 });
    expect(out.summary).toMatch(/^3 findings at level error or warning \(max 0\); first: py\/sql-injection/);
  });

  it('fails on a listed rule at any level, and only on rules with failOn: []', async () => {
    const out = await run({ report: 'findings.sarif', failOn: [], rules: ['py/weak-hash'] });
    expect(out.status).toBe('failed');
    expect(out.measurements).toMatchObject({ failing: 1 });
    expect(out.summary).toBe('1 finding of rules py/weak-hash (max 0); first: py/weak-hash warning at app/auth.py:7: Weak hash md5 used for tokens');
    expect(out.thresholds).toEqual({ failOn: [], rules: ['py/weak-hash'] });
  });

  it('passes when nothing unsuppressed is at a failing level, and says what else it found', async () => {
    const out = await run({ report: 'clean.sarif' });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('no findings at level error (2 others: 1 warning, 1 note; 1 suppressed)');
    expect(out.measurements).toEqual({ error: 0, warning: 1, note: 1, none: 0, total: 2, suppressed: 1, failing: 0, files: 1 });
  });

  it('matches hierarchical rule ids by their parent', async () => {
    const out = await run({ report: 'clean.sarif', rules: ['CA2101'] });
    expect(out.status).toBe('failed');
    expect(out.summary).toMatch(/^1 finding at level error or of rules CA2101 \(max 0\); first: CA2101\/pinvoke note/);
    expect((await run({ report: 'clean.sarif', rules: ['CA210'] })).status).toBe('passed');
  });

  it('passes an empty results array', async () => {
    const out = await run({ report: 'empty-results.sarif' });
    expect(out.status).toBe('passed');
    expect(out.summary).toBe('no findings at level error');
  });

  it('reads several reports and bounds the findings kept to 100', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-sarif-'));
    const results = Array.from({ length: 150 }, (_, i) => ({ ruleId: `r${i}`, level: i < 3 ? 'error' : 'note', message: { text: `m${i}` } }));
    fs.writeFileSync(path.join(dir, 'a.sarif'), JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 't' } }, results }] }));
    fs.copyFileSync(path.join(DIR, 'clean.sarif'), path.join(dir, 'b.sarif'));
    const out = await run({ report: '*.sarif' }, testContext(dir));
    expect(out.measurements).toMatchObject({ error: 3, note: 148, warning: 1, total: 152, failing: 3, files: 2 });
    const details = out.details as { findings: Finding[]; findingsNotShown: number };
    expect(details.findings).toHaveLength(100);
    expect(details.findings.slice(0, 3).map((f) => f.ruleId)).toEqual(['r0', 'r1', 'r2']);
    expect(details.findingsNotShown).toBe(53);
    expect(Object.keys(out.inputs)).toEqual(['a.sarif', 'b.sarif']);
  });
});

describe('sarif: errors', () => {
  it.each([
    ['missing.sarif', /missing\.sarif: no such file/],
    ['not-json.sarif', /^not-json\.sarif: not JSON/],
    ['not-sarif.json', /^not-sarif\.json: not a SARIF report: expected an object with "version": "2\.1\.0" and "runs"$/],
    ['old-version.sarif', /^old-version\.sarif: SARIF version "2\.0\.0" is not supported; expected "2\.1\.0"$/],
    ['bad-level.sarif', /^bad-level\.sarif: not a valid SARIF 2\.1\.0 report: runs\[0\]\.results\[0\]\.level: /],
    ['no-results.sarif', /^no-results\.sarif: analyzer wrote no results array, which in SARIF means the analysis did not run$/],
    ['failed-run.sarif', /^failed-run\.sarif: analyzer reports that its analysis did not complete/],
    ['*.json.gz', /no file matches/],
  ])('errors on %s', async (report, message) => {
    const out = await run({ report });
    expect(out.status).toBe('errored');
    expect(out.summary).toMatch(message);
  });
});
