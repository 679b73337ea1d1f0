/**
 * `tollgate validate` end to end from the CLI binary on the example project: results recorded,
 * `status` shows them per requirement, a failing validation blocks promotion with the measured value
 * and the threshold in its reason; a result stands however the caller's folder changes (DESIGN.md
 * rule 6) until a newer run replaces it, and artifact inputs are bound to the registered bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';

const REL = 'fraud-detector@2.4.0';
const STAGING_VALIDATIONS = ['tests', 'contract', 'drift', 'quality', 'security'];

let p: Project;

beforeAll(() => {
  p = createProject();
  const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice']);
  if (r.code !== 0) throw new Error(r.stderr);
}, 60_000);
afterAll(() => removeProjects());

function requirement(d: any, gate: string, id: string): any {
  return d.gates.find((g: any) => g.id === gate)?.requirements.find((r: any) => r.id === id);
}

describe('validate on the example project', () => {
  it('is refused for someone without the validator role, before anything runs', () => {
    const r = p.run(['validate', REL, '--to', 'staging', '--as', 'alice', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_NOT_ALLOWED');
    expect(requirement(p.run(['status', REL, '--to', 'staging', '--json']).json(), 'automated', 'drift').outcome).toBe('missing');
  });

  it('runs every staging validation, records the results, and status shows each one satisfied', () => {
    const r = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const out = r.json();
    expect(out.results.map((x: any) => x.id)).toEqual(STAGING_VALIDATIONS);
    for (const x of out.results) {
      expect(x).toMatchObject({ outcome: 'passed' });
      expect(typeof x.validator).toBe('string');
      expect(typeof x.measurements).toBe('object');
    }
    const drift = out.results.find((x: any) => x.id === 'drift');
    expect(drift.measurements.columns.amount).toMatchObject({ kind: 'numeric', ks_statistic: expect.any(Number), ks_pvalue: expect.any(Number), psi: expect.any(Number) });
    expect(drift.measurements.columns.merchant_category).toMatchObject({ kind: 'categorical', psi: expect.any(Number), chi2_statistic: expect.any(Number), chi2_pvalue: expect.any(Number) });
    expect(Object.keys(drift.inputs).sort()).toEqual(['data/current.csv', 'data/reference.csv']);

    const d = p.run(['status', REL, '--to', 'staging', '--json']).json();
    const automated = d.gates.find((g: any) => g.id === 'automated');
    expect(automated.outcome).toBe('satisfied');
    expect(automated.requirements.map((x: any) => [x.id, x.kind, x.outcome])).toEqual(STAGING_VALIDATIONS.map((id) => [id, 'validation', 'satisfied']));
    expect(requirement(d, 'automated', 'tests').reason).toMatch(/^passed \(junit at /);
  });

  it('--only runs one validation', () => {
    const r = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'tests', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().results.map((x: any) => x.id)).toEqual(['tests']);
    const bad = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'nope', '--json']);
    expect(bad.code).toBe(2);
    expect(bad.json().error.code).toBe('TG_ITEM_UNKNOWN');
  });

  it('keeps a result satisfied when its input file changes or is deleted here: a newer run supersedes it, the disk does not', () => {
    const q = p.clone();
    const file = path.join(q.dir, 'eval/metrics.json');
    const before = q.run(['status', REL, '--to', 'staging', '--json']).json();
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"latency_p95_ms": 41', '"latency_p95_ms": 73'));
    fs.rmSync(path.join(q.dir, 'data/current.csv'));
    const after = q.run(['status', REL, '--to', 'staging', '--json']).json();
    expect(requirement(after, 'automated', 'quality').outcome).toBe('satisfied');
    expect(requirement(after, 'automated', 'drift').outcome).toBe('satisfied');
    expect({ ...after, evaluatedAt: 0 }).toEqual({ ...before, evaluatedAt: 0 });
    // Running it again is what replaces the result: now on the slower model, and it fails.
    expect(q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'quality']).code).toBe(3);
    expect(requirement(q.run(['status', REL, '--to', 'staging', '--json']).json(), 'automated', 'quality').outcome).toBe('failed');
  });

  it('gives the byte-identical status --json (but evaluatedAt) from three different folders', () => {
    const elsewhere = [p.dir, path.join(p.dir, 'data'), fs.mkdtempSync(path.join(path.dirname(p.dir), 'tollgate-elsewhere-'))];
    try {
      const outs = elsewhere.map((cwd) => {
        const r = p.run(['--home', p.home, 'status', REL, '--to', 'staging', '--json'], { cwd });
        // Not promotable yet (the checklist and sign-off are missing): exit 3, and a full decision.
        expect(r.code, r.stderr).toBe(3);
        return r.stdout.replace(/"evaluatedAt": "[^"]+"/, '"evaluatedAt": ""');
      });
      expect(outs[1]).toBe(outs[0]);
      expect(outs[2]).toBe(outs[0]);
    } finally {
      fs.rmSync(elsewhere[2]!, { recursive: true, force: true });
    }
  });

  it('binds an artifact:NAME input to the registered artifact: other bytes error the validation, the registered ones pass', () => {
    const q = p.clone();
    // A policy whose quality check reads the model's evaluation as a release artifact.
    q.write('release-art.yaml', q.read('release.yaml').replace('version: 2.4.0', 'version: 2.4.1').replace('artifacts:\n', 'artifacts:\n  - { name: eval-metrics, kind: other, path: eval/metrics.json }\n'));
    q.write('tollgate.yaml', q.read('tollgate.yaml').replace('current: eval/metrics.json', 'current: artifact:eval-metrics'));
    expect(q.run(['policy', 'apply', 'tollgate.yaml', '--as', 'dave']).code).toBe(0);
    expect(q.run(['release', 'create', 'release-art.yaml', '--as', 'alice']).code).toBe(0);
    const ok = q.run(['validate', 'fraud-detector@2.4.1', '--to', 'staging', '--as', 'ci', '--only', 'quality', '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(Object.keys(ok.json().results[0].inputs)).toEqual(['artifact:eval-metrics']);
    const file = path.join(q.dir, 'eval/metrics.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"accuracy": 0.943', '"accuracy": 0.999'));
    const bad = q.run(['validate', 'fraud-detector@2.4.1', '--to', 'staging', '--as', 'ci', '--only', 'quality', '--json']);
    expect(bad.code).toBe(3);
    expect(bad.json().results[0].outcome).toBe('errored');
    expect(bad.json().results[0].summary).toMatch(/artifact:eval-metrics: .* is not the registered artifact/);
  });

  it('blocks promotion on a failing validation, naming the measured value and the threshold', () => {
    const q = p.clone();
    // A model that got slower: latency_p95_ms 41 → 73 against the rule latency_p95_ms <= 50.
    const file = path.join(q.dir, 'eval/metrics.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"latency_p95_ms": 41', '"latency_p95_ms": 73'));
    const v = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    expect(v.code).toBe(3);
    expect(v.json().results.find((x: any) => x.id === 'quality').outcome).toBe('failed');
    for (const args of [
      ['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice'],
      ['check', REL, 'model-card', '--to', 'staging', '--as', 'alice'],
      ['signoff', REL, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob'],
    ]) {
      expect(q.run(args).code).toBe(0);
    }
    const r = q.run(['promote', REL, '--to', 'staging', '--as', 'dave', '--json']);
    expect(r.code).toBe(3);
    const quality = requirement(r.json(), 'automated', 'quality');
    expect(quality.outcome).toBe('failed');
    expect(quality.reason).toContain('latency_p95_ms <= 50 (latency_p95_ms 73)');
    expect(r.json().error.message).toContain('automated/quality failed');
  });

  it('records an unreadable input as errored, not failed, and blocks with exit 3', () => {
    const q = p.clone();
    fs.writeFileSync(path.join(q.dir, 'data/current.csv'), 'not,a\n"broken');
    fs.rmSync(path.join(q.dir, 'reports/junit.xml'));
    const r = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    expect(r.code).toBe(3);
    const byId = Object.fromEntries(r.json().results.map((x: any) => [x.id, x]));
    expect(byId.tests.outcome).toBe('errored');
    expect(byId.tests.summary).toMatch(/junit\.xml/);
    expect(['errored', 'failed']).toContain(byId.contract.outcome);
    expect(byId.drift.outcome).toBe('errored');
    const d = q.run(['status', REL, '--to', 'staging', '--json']).json();
    expect(requirement(d, 'automated', 'tests').outcome).toBe('errored');
  });

  it('writes a self-contained report page with the results and charts', () => {
    const r = p.run(['report', REL, '-o', 'out/report.html', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const html = p.read('out/report.html');
    expect(html).toContain('PSI by column');
    // Per-column distributions, reference vs current, and the quality metrics.
    expect(html).toContain('amount: share per bin, reference vs current');
    expect(html).toContain('merchant_category: share per bin, reference vs current');
    expect(html).toMatch(/metrics \(no baseline yet\)|metrics vs baseline/);
    expect(html).toContain('automated / drift');
    expect(html).not.toMatch(/<script|src="http/);
    expect(r.json().file).toBe(path.join(p.dir, 'out/report.html'));
    // The count the CLI gives is the count the page shows (issue 13: "19 validation results" against 10).
    expect((html.match(/<section class="result /g) ?? []).length).toBe(r.json().results);
  });

  // Security finding 2 (issue 13): a `command` validation got the CLI's whole environment, and its
  // output is stored where every roster member reads it (the evidence API, the report).
  describe('a command validation', () => {
    const TOKEN = 'tg_e2eSecretToken0123456789';
    const env = { TOLLGATE_TOKEN: TOKEN, BUILD_ID: 'build-42', UNLISTED_SECRET: 'unlisted-value-9' };
    const SECURITY = "      - { id: security, uses: sarif, with: { report: reports/scan.sarif, failOn: [error] } }\n";
    let q: Project;
    const stored = (): { stdout: string; json: string } => {
      const db = q.openDb();
      const rows = db.prepare("SELECT details_json FROM validation_results WHERE validation_id = 'env-dump' ORDER BY rowid DESC").all() as { details_json: string }[];
      db.close();
      return { stdout: JSON.parse(rows[0]!.details_json).stdout, json: rows[0]!.details_json };
    };
    const withDump = (w: string) => q.write('tollgate.yaml', p.read('tollgate.yaml').replace(SECURITY, `${SECURITY}      - { id: env-dump, uses: command, with: ${w} }\n`));

    beforeAll(() => {
      q = p.clone();
      q.write('leak.txt', `the token is ${TOKEN}\n`);
    });

    it('gets neither TOLLGATE_TOKEN nor variables it was not given, and secrets are redacted from its stored output', () => {
      withDump(`{ run: 'env | sort; cat leak.txt' }`);
      expect(q.run(['policy', 'apply', 'tollgate.yaml', '--as', 'dave']).code).toBe(0);
      const r = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'env-dump', '--json'], { env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const { stdout, json } = stored();
      expect(stdout).toMatch(/^PATH=/m);
      expect(stdout).not.toMatch(/^TOLLGATE_/m);
      expect(stdout).not.toMatch(/^(UNLISTED_SECRET|BUILD_ID)=/m);
      expect(stdout).toContain('the token is [redacted TOLLGATE_TOKEN]');
      expect(json).not.toContain(TOKEN);
      expect(r.stdout + r.stderr).not.toContain(TOKEN);
    });

    it('gets the variables passEnv names; policy check refuses a TOLLGATE_* name there', () => {
      withDump(`{ run: 'env | sort', passEnv: [BUILD_ID] }`);
      expect(q.run(['policy', 'apply', 'tollgate.yaml', '--as', 'dave']).code).toBe(0);
      const r = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'env-dump', '--json'], { env });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(stored().stdout).toMatch(/^BUILD_ID=build-42$/m);
      expect(stored().stdout).not.toMatch(/^UNLISTED_SECRET=/m);

      withDump(`{ run: 'env | sort', passEnv: [BUILD_ID, TOLLGATE_TOKEN] }`);
      const check = q.run(['policy', 'check']);
      expect(check.code).toBe(2);
      expect(check.stdout).toMatch(/tollgate\.yaml:\d+:\d+: .*TOLLGATE_TOKEN: TOLLGATE_\* variables are Tollgate's own/);
    });
  });

  // Security finding 7 (issue 13): a 2.6 MB result made `report` overflow the stack on that release
  // for good. What a validator records is bounded, and the report draws any size.
  it('a result too large to record is recorded as errored with its size, and report on the release still works', () => {
    const q = p.clone();
    const metrics = Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`metric_${i}`, (i % 997) / 997]));
    fs.writeFileSync(path.join(q.dir, 'eval/metrics.json'), JSON.stringify({ ...metrics, accuracy: 0.943, latency_p95_ms: 41, ece: 0.02 }));
    const v = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'quality']);
    const r = q.run(['report', REL, '-o', 'big.html', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(v.code, v.stdout + v.stderr).toBe(3);
    const quality = requirement(q.run(['status', REL, '--to', 'staging', '--json']).json(), 'automated', 'quality');
    expect(quality.outcome).toBe('errored');
    expect(quality.reason).toMatch(/metrics measured \d+\.\d MiB of JSON, over the 1\.0 MiB a result may record; .* It said: passed: /);
    expect(q.read('big.html')).toContain('over the 1.0 MiB a result may record');
  });

  it('policy check rejects a with block its validator does not accept, at file:line:col', () => {
    const q = p.clone();
    q.write('tollgate.yaml', q.read('tollgate.yaml').replace('psi: { max: 0.2 }', 'psi: { max: "high" }').replace('uses: sarif', 'uses: sarif2'));
    const r = q.run(['policy', 'check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/tollgate\.yaml:\d+:\d+: .*drift: "with\.psi\.max"/);
    expect(r.stdout).toMatch(/tollgate\.yaml:\d+:\d+: unknown validator "sarif2"/);
  });
});

describe('slices from the CLI', () => {
  const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/validators/slices');

  /** A clone of the project whose staging gate also has `validation` (YAML lines), with the cohorts files in eval/. */
  function withSlices(validation: string): Project {
    const q = p.clone();
    for (const f of ['cohorts.csv', 'cohorts-baseline.csv']) q.write(`eval/${f}`, fs.readFileSync(path.join(FIXTURES, f), 'utf8'));
    const policy = q.read('tollgate.yaml');
    const at = policy.indexOf('  - id: peer-review');
    expect(at).toBeGreaterThan(0);
    q.write('tollgate.yaml', `${policy.slice(0, at)}${validation}${policy.slice(at)}`);
    return q;
  }

  it('validate names the slices below minSupport, and fails on them with failOnUnsupported', () => {
    const q = withSlices(`      - id: fairness
        uses: slices
        with: { predictions: eval/cohorts.csv, group: [site, age_band], minSupport: 8, failOnUnsupported: true,
                thresholds: { accuracy: { min: 0.4 } }, baseline: { predictions: eval/cohorts-baseline.csv, maxDrop: { accuracy: 0.4 } } }
`);
    const a = q.run(['policy', 'apply', 'tollgate.yaml', '--as', 'dave']);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    const r = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'fairness']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toContain(
      'failOnUnsupported: 4 slices below minSupport 8 (site=east, age_band=18-39: 5 rows; site=east, age_band=40-64: 2 rows; site=south, age_band=65+: 5 rows; site=east, age_band=65+: 0 rows)',
    );
    const fairness = requirement(q.run(['status', REL, '--to', 'staging', '--json']).json(), 'automated', 'fairness');
    expect(fairness.outcome).toBe('failed');
    expect(fairness.reason).toContain('failOnUnsupported: 4 slices below minSupport 8');
    const json = q.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--only', 'fairness', '--json']).json();
    expect(json.results[0].measurements).toMatchObject({ mode: 'intersectional', unsupported: 4, baseline: { predictions: 'eval/cohorts-baseline.csv', rows: 73 } });
    expect(Object.keys(json.results[0].inputs).sort()).toEqual(['eval/cohorts-baseline.csv', 'eval/cohorts.csv']);
  });

  it('policy check names a bad mode, failOnUnsupported and baseline at their file:line:col', () => {
    const q = withSlices(`      - id: fairness
        uses: slices
        with:
          predictions: eval/cohorts.csv
          group: [site, age_band]
          mode: crosswise
          failOnUnsupported: "yes"
          thresholds: { accuracy: { min: 0.4 } }
          baseline: { predictions: eval/cohorts-baseline.csv, maxDrop: { recall: 1.5, f1: 0.1 } }
`);
    const lines = q.read('tollgate.yaml').split('\n');
    const where = (text: string) => {
      const line = lines.findIndex((l) => l.includes(text));
      return `tollgate.yaml:${line + 1}:${lines[line]!.indexOf(text) + 1}`;
    };
    const r = q.run(['policy', 'check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${where('crosswise')}: slices: "with.mode" mode must be intersectional`);
    expect(r.stdout).toContain(`${where('"yes"')}: slices: "with.failOnUnsupported" failOnUnsupported must be true or false`);
    expect(r.stdout).toContain(`${where('1.5')}: slices: "with.baseline.maxDrop.recall" baseline.maxDrop.recall must be at most 1`);
    expect(r.stdout).toContain(`${where('f1')}: slices: unknown field "f1" in "with"`);
  });
});

