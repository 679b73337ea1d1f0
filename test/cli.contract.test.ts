/**
 * DESIGN.md's contract, end to end through the real binary, as someone who has only that page would
 * check it: its policy, operations and manifest examples (test/fixtures/design, copied verbatim) parse
 * and behave as the page says; the exit codes it lists (0 done, 2 bad usage or input, 3 blocked by
 * policy, 4 verification failed) hold for the situations it names; and the `--json` fields it names
 * are there, with their names and types. A standing check: a change that breaks the page's promise
 * to scripts fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, runInAsync, type Project, type RunResult } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';

const FIXTURES = path.resolve(import.meta.dirname, 'fixtures/design');
const DESIGN_POLICY = fs.readFileSync(path.join(FIXTURES, 'policy.yaml'), 'utf8');
const DESIGN_OPERATIONS = fs.readFileSync(path.join(FIXTURES, 'operations.yaml'), 'utf8');
const DESIGN_MANIFEST = fs.readFileSync(path.join(FIXTURES, 'manifest.yaml'), 'utf8');

const REL = 'fraud-detector@2.4.0';
/** DESIGN.md, Vocabulary: the outcomes of a requirement. */
const OUTCOMES = ['satisfied', 'missing', 'failed', 'errored', 'stale', 'expired'];
/** DESIGN.md, Machine output: `kind` of a requirement. */
const KINDS = ['checklist', 'signoff', 'validation'];
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const PUBLIC_KEY = /^ed25519:[A-Za-z0-9+/]+=*$/;

/**
 * The example policy with the roster's placeholder keys (`"ed25519:..."`) replaced by the real keys
 * `init` made for the same users, and `extra` roster lines added: everything else as the page has it.
 */
function withRealKeys(p: Project, policy: string, extra: string[] = []): string {
  const users = p.init.users as Record<string, string>;
  const out = policy.replace(/^( {2}(\w+):\s*\{ roles: \[[^\]]*\], key: ")[^"]*(")/gm, (_m, head: string, user: string, tail: string) => {
    if (!users[user]) throw new Error(`fixture: init made no key for ${user}`);
    return `${head}${users[user]}${tail}`;
  });
  return extra.length === 0 ? out : out.replace(/^stages:$/m, `${extra.join('\n')}\nstages:`);
}

/** A manifest's placeholder digests (`"9f2c…"`, `"…"`) as real 64-digit ones. */
function withRealDigests(manifest: string): string {
  let n = 0;
  return manifest.replace(/sha256: "[^"]*"/g, () => `sha256: "${String(++n).repeat(64)}"`);
}

/** The gates of a `status`/`promote` JSON as DESIGN.md names them, checking each field's type. */
function expectDecisionShape(d: any, stage: string): void {
  expect(d.release).toBe(REL);
  expect(d.stage).toBe(stage);
  expect(typeof d.promotable).toBe('boolean');
  expect(Array.isArray(d.gates)).toBe(true);
  for (const g of d.gates) {
    expect(typeof g.id).toBe('string');
    expect(typeof g.outcome).toBe('string');
    expect(Array.isArray(g.requirements)).toBe(true);
    for (const r of g.requirements) {
      expect(typeof r.id).toBe('string');
      expect(typeof r.reason).toBe('string');
      expect(OUTCOMES).toContain(r.outcome);
      // The stage-level blocks (freeze, order, soak) come as the gate `stage`; its requirements have a
      // kind of their own (`stage`), which DESIGN.md's list of three does not name.
      if (g.id !== 'stage') expect(KINDS).toContain(r.kind);
    }
  }
  expect(d.promotable).toBe(d.gates.every((g: any) => g.outcome === 'satisfied'));
}

/** An error as every command prints it under --json: a stable code, a message and a hint. */
function expectError(r: RunResult, exit: number, code: string): any {
  expect(r.code, r.stdout + r.stderr).toBe(exit);
  const err = r.json().error;
  expect(err.code).toBe(code);
  expect(typeof err.message).toBe('string');
  expect(typeof err.hint).toBe('string');
  return err;
}

afterAll(() => removeProjects());

describe("DESIGN.md's policy example", () => {
  let p: Project;
  beforeAll(() => {
    p = createProject();
  });

  it('as printed, its only problems are the placeholder keys (exit 2, TG_POLICY_INVALID, file:line:col)', () => {
    p.write('design-policy.yaml', DESIGN_POLICY);
    const r = p.run(['policy', 'check', 'design-policy.yaml', '--json']);
    expect(r.code).toBe(2);
    const out = r.json();
    expect(out.ok).toBe(false);
    expect(out.code).toBe('TG_POLICY_INVALID');
    expect(out.problems.length).toBeGreaterThan(0);
    for (const problem of out.problems) expect(problem.path).toMatch(/^roster\.(alice|carol|ci|dave)\.key$/);
    expect(p.run(['policy', 'check', 'design-policy.yaml']).stdout).toMatch(/^design-policy\.yaml:5:\d+: roster entry "alice", key: /m);
  });

  it('with real keys in the roster it checks clean and is recorded as a new version', () => {
    p.write('design-policy.yaml', withRealKeys(p, DESIGN_POLICY));
    const check = p.run(['policy', 'check', 'design-policy.yaml', '--json']);
    expect(check.code, check.stdout).toBe(0);
    expect(check.json()).toMatchObject({ ok: true, name: 'fraud-platform', problems: [] });
    expect(check.json().digest).toMatch(DIGEST);
    const apply = p.run(['policy', 'apply', 'design-policy.yaml', '--as', 'dave', '--json']);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.json()).toMatchObject({ name: 'fraud-platform', version: 2, digest: check.json().digest });
  });

  it("on init's example project its validations pass: drift compares every column but the time column created_at", () => {
    const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice']);
    expect(r.code, r.stderr).toBe(0);
    const v = p.run(['validate', REL, '--to', 'staging', '--only', 'drift', '--as', 'ci', '--json']);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    const drift = v.json().results[0];
    expect(drift).toMatchObject({ id: 'drift', validator: 'drift', outcome: 'passed' });
    expect(Object.keys(drift.measurements.columns)).toEqual(['tx_id', 'amount', 'hour', 'merchant_category']);
  });

  it('the operations settings example, in a whole policy with a roster that holds its roles, checks clean', () => {
    const erin = p.run(['keys', 'create', 'erin', '--json']).json().publicKey;
    const base = withRealKeys(p, DESIGN_POLICY, [`  erin:  { roles: [sre, incident-commander, model-risk], key: "${erin}" }`]);
    // The roster of the policy example, then the stages and gates of the operations example (with the
    // staging stage it comes after).
    const policy = `${base.slice(0, base.indexOf('stages:'))}stages:\n  - name: staging\n${DESIGN_OPERATIONS.replace(/^stages:\n/, '')}`;
    p.write('design-operations.yaml', policy);
    const r = p.run(['policy', 'check', 'design-operations.yaml', '--json']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.json().ok).toBe(true);
  });
});

describe("DESIGN.md's release manifest example", () => {
  let p: Project;
  beforeAll(() => {
    p = createProject();
  });

  it('as printed, its only problems are the placeholder digests (exit 2, TG_MANIFEST_INVALID)', () => {
    p.write('design-release.yaml', DESIGN_MANIFEST);
    const err = expectError(p.run(['release', 'create', 'design-release.yaml', '--as', 'alice', '--json']), 2, 'TG_MANIFEST_INVALID');
    expect(err.problems.map((x: any) => x.path)).toEqual(['artifacts[1].sha256', 'artifacts[2].sha256']);
    expect(p.run(['release', 'list', '--json']).json().releases).toEqual([]);
  });

  it('with real digests it registers: stdout is subject@version; --json has release and digest', () => {
    p.write('design-release.yaml', withRealDigests(DESIGN_MANIFEST));
    const plain = p.run(['release', 'create', 'design-release.yaml', '--as', 'alice']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`${REL}\n`);
    const json = p.run(['release', 'create', 'design-release.yaml', '--as', 'alice', '--json']);
    expect(json.code).toBe(0);
    expect(json.json().release).toBe(REL);
    expect(json.json().digest).toMatch(DIGEST);
    const shown = p.run(['release', 'show', REL, '--json']).json();
    expect(shown.manifest).toMatchObject({ subject: 'fraud-detector', version: '2.4.0', risk: 'high', owner: 'alice', testedIn: ['dev'] });
    expect(shown.manifest.lineage).toEqual([{ from: ['train-data', 'code'], to: 'model', step: 'train' }]);
  });

  it('registering the same name with other content is refused (exit 2, TG_RELEASE_CONFLICT)', () => {
    p.write('changed.yaml', withRealDigests(DESIGN_MANIFEST).replace('risk: high', 'risk: low'));
    expectError(p.run(['release', 'create', 'changed.yaml', '--as', 'alice', '--json']), 2, 'TG_RELEASE_CONFLICT');
  });
});

describe('exit codes and --json fields, along a release from registration to an attestation', () => {
  let p: Project;
  let serverPub: string;
  beforeAll(() => {
    p = createProject();
    const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice']);
    if (r.code !== 0) throw new Error(`release create failed: ${r.stderr}`);
  });

  it('status: exit 3 and every gate and requirement with its outcome and why while not promotable', () => {
    const r = p.run(['status', REL, '--to', 'staging', '--json']);
    expect(r.code).toBe(3);
    const d = r.json();
    expectDecisionShape(d, 'staging');
    expect(d.promotable).toBe(false);
    expect(d.gates.map((g: any) => g.id)).toEqual(['inventory', 'automated', 'peer-review']);
    expect(new Set(d.gates.flatMap((g: any) => g.requirements.map((x: any) => x.kind)))).toEqual(new Set(KINDS));
  });

  it('status into a stage that comes after another: the order block is the gate `stage`, exit 3', () => {
    const r = p.run(['status', REL, '--to', 'production', '--json']);
    expect(r.code).toBe(3);
    const d = r.json();
    expectDecisionShape(d, 'production');
    const stage = d.gates.find((g: any) => g.id === 'stage');
    expect(stage?.outcome).toBe('failed');
    expect(stage.requirements.find((x: any) => x.id === 'order')).toMatchObject({ outcome: 'failed' });
  });

  it('validate: exit 3 when a validation failed; --json results with id, validator, outcome, measurements', () => {
    const good = p.read('reports/junit.xml');
    p.write('reports/junit.xml', good.replace(/<testcase ([^>]*)\/>/, '<testcase $1><failure message="boom"/></testcase>'));
    const failed = p.run(['validate', REL, '--to', 'staging', '--only', 'tests', '--as', 'ci', '--json']);
    expect(failed.code, failed.stdout + failed.stderr).toBe(3);
    expect(failed.json().results).toEqual([expect.objectContaining({ id: 'tests', validator: 'junit', outcome: 'failed', measurements: expect.any(Object) })]);
    p.write('reports/junit.xml', good);
    const r = p.run(['validate', REL, '--to', 'staging', '--as', 'ci', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const results = r.json().results;
    expect(results.map((x: any) => [x.id, x.validator, x.outcome])).toEqual([
      ['tests', 'junit', 'passed'],
      ['contract', 'schema', 'passed'],
      ['drift', 'drift', 'passed'],
      ['quality', 'metrics', 'passed'],
      ['security', 'sarif', 'passed'],
    ]);
    const amount = results.find((x: any) => x.id === 'drift').measurements.columns.amount;
    expect(amount.kind).toBe('numeric');
    for (const f of ['ks_statistic', 'ks_pvalue', 'psi']) expect(typeof amount[f]).toBe('number');
    const category = results.find((x: any) => x.id === 'drift').measurements.columns.merchant_category;
    expect(category.kind).toBe('categorical');
    for (const f of ['psi', 'chi2_statistic', 'chi2_pvalue']) expect(typeof category[f]).toBe('number');
  });

  it('promote: exit 3 naming every unmet requirement, promoted false; then exit 0, promoted true', () => {
    const blocked = p.run(['promote', REL, '--to', 'staging', '--as', 'dave', '--json']);
    expect(blocked.code).toBe(3);
    const d = blocked.json();
    expectDecisionShape(d, 'staging');
    expect(d).toMatchObject({ promotable: false, promoted: false, error: { code: 'TG_PROMOTION_BLOCKED' } });
    expect(d.error.message).toMatch(/inventory\/datasets-listed missing/);
    expect(d.error.message).toMatch(/peer-review\/signoff:ml-engineer missing/);

    expect(p.run(['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--note', 'listed', '--as', 'alice']).code).toBe(0);
    expect(p.run(['check', REL, 'model-card', '--to', 'staging', '--as', 'alice']).code).toBe(0);
    expect(p.run(['signoff', REL, '--to', 'staging', '--role', 'ml-engineer', '--comment', 'reviewed', '--as', 'bob']).code).toBe(0);
    const done = p.run(['promote', REL, '--to', 'staging', '--as', 'dave', '--json']);
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expectDecisionShape(done.json(), 'staging');
    expect(done.json()).toMatchObject({ promotable: true, promoted: true });
  });

  it('release verify: exit 0 when the local files are the registered bytes, exit 4 naming each that is not', () => {
    expect(p.run(['release', 'verify', REL]).code).toBe(0);
    const model = fs.readFileSync(path.join(p.dir, 'model/model.onnx'));
    fs.appendFileSync(path.join(p.dir, 'model/model.onnx'), 'x');
    try {
      const r = p.run(['release', 'verify', REL, '--json']);
      const err = expectError(r, 4, 'TG_ARTIFACT_MISMATCH');
      expect(err.message).toMatch(/^1 artifact does not match the registered digests of fraud-detector@2\.4\.0: model: model\/model\.onnx is sha256:/);
      expect(r.json()).toMatchObject({ ok: false, artifacts: expect.arrayContaining([expect.objectContaining({ name: 'model', outcome: 'mismatch' })]) });
    } finally {
      fs.writeFileSync(path.join(p.dir, 'model/model.onnx'), model);
    }
  });

  it('check without the evidence an item requires: exit 2, TG_EVIDENCE_REQUIRED', () => {
    expectError(p.run(['check', REL, 'rollback-plan', '--to', 'production', '--as', 'dave', '--json']), 2, 'TG_EVIDENCE_REQUIRED');
  });

  it('signoff --reject blocks (the requirement is failed, exit 3) until its signer signs off again', () => {
    expect(p.run(['signoff', REL, '--to', 'production', '--role', 'security', '--reject', '--comment', 'not yet', '--as', 'carol']).code).toBe(0);
    const r = p.run(['status', REL, '--to', 'production', '--json']);
    expect(r.code).toBe(3);
    const security = r.json().gates.find((g: any) => g.id === 'approvals').requirements.find((x: any) => x.kind === 'signoff' && /security/.test(x.id));
    expect(security).toMatchObject({ outcome: 'failed' });
    expect(security.reason).toMatch(/not yet/);
  });

  it('keys: create and show print {user, publicKey}; keys show --server prints {publicKey}', () => {
    const created = p.run(['keys', 'create', 'frank', '--json']);
    expect(created.code).toBe(0);
    expect(created.json()).toEqual({ user: 'frank', publicKey: expect.stringMatching(PUBLIC_KEY) });
    expect(p.run(['keys', 'show', 'frank', '--json']).json()).toMatchObject({ user: 'frank', publicKey: created.json().publicKey });
    const server = p.run(['keys', 'show', '--server', '--json']);
    expect(server.code).toBe(0);
    expect(server.json().publicKey).toMatch(PUBLIC_KEY);
    expect(server.json().publicKey).toBe(p.init.serverKey);
    serverPub = server.json().publicKey;
  });

  it('attest and verify: exit 0 {ok: true, checked}; a changed bundle exit 4 {ok: false, failure}', () => {
    expect(p.run(['attest', REL, '--stage', 'staging', '-o', 'att.json']).code).toBe(0);
    p.write('server.pub', `${serverPub}\n`);
    for (const key of [serverPub, 'server.pub']) {
      const r = p.run(['verify', 'att.json', '--key', key, '--json']);
      expect(r.code, r.stdout).toBe(0);
      expect(r.json().ok).toBe(true);
      expect(r.json().checked.length).toBeGreaterThan(0);
      for (const c of r.json().checked) expect(typeof c).toBe('string');
    }
    const envelope = JSON.parse(p.read('att.json'));
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
    statement.predicate.stage = 'production';
    p.write('changed.json', JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(statement)).toString('base64') }));
    const changed = p.run(['verify', 'changed.json', '--key', serverPub, '--json']);
    expect(changed.code).toBe(4);
    expect(changed.json()).toMatchObject({ ok: false, checked: expect.any(Array), failure: expect.any(String) });
    // A bundle cut short is no longer JSON: still the fields DESIGN.md names (and the error's code).
    p.write('cut.json', p.read('att.json').slice(0, 200));
    const cut = p.run(['verify', 'cut.json', '--key', serverPub, '--json']);
    expect(cut.code).toBe(4);
    expect(cut.json()).toMatchObject({ ok: false, checked: [], failure: expect.stringMatching(/cut\.json is not JSON/), error: { code: 'TG_VERIFY_FAILED' } });
    const plain = p.run(['verify', 'cut.json', '--key', serverPub]);
    expect(plain.code).toBe(4);
    expect(plain.stdout).toMatch(/cut\.json is not JSON/);
  });

  it('audit verify: exit 0 {ok, events, head}; a row edited by hand: exit 4 naming it, and a decision refuses (exit 4, TG_STATE_TAMPERED)', () => {
    const r = p.run(['audit', 'verify', '--json']);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, events: expect.any(Number), head: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(r.json().firstBad).toBeUndefined();
    const copy = p.clone();
    const db = copy.openDb();
    try {
      db.prepare("UPDATE signoffs SET comment = 'looks fine' WHERE decision = 'reject'").run();
    } finally {
      db.close();
    }
    const broken = copy.run(['audit', 'verify', '--json']);
    expect(broken.code).toBe(4);
    expect(broken.json()).toMatchObject({ ok: false, firstBad: { table: 'signoffs', what: 'edited' } });
    expectError(copy.run(['status', REL, '--to', 'production', '--json']), 4, 'TG_STATE_TAMPERED');
  });

  it('metrics --json: the figures DESIGN.md names (a rate from 0 to 1, or null before any promotion), per gate, per subject and per week', () => {
    // The flow above promoted into staging only: its figures are staging's (production has none yet).
    const r = p.run(['metrics', '--stage', 'staging', '--json']);
    expect(r.code).toBe(0);
    const m = r.json();
    expect(m.deploymentFrequency).toBeGreaterThan(0);
    expect(m.leadTimeSeconds).toBeGreaterThan(0);
    expect(m.changeFailureRate).toBe(0);
    expect(m.reworkRate).toBe(0);
    expect(m.timeToRestoreSeconds).toBeNull();
    expect(m.gates.map((g: any) => g.id).sort()).toEqual(['automated', 'inventory', 'peer-review']);
    for (const g of m.gates) {
      expect(typeof g.waitSeconds).toBe('number');
      expect(g.blockRate).toBeGreaterThanOrEqual(0);
      expect(g.blockRate).toBeLessThanOrEqual(1);
    }
    expect(m.subjects).toEqual([expect.objectContaining({ deploymentFrequency: m.deploymentFrequency, changeFailureRate: 0 })]);
    expect(m.weeks.length).toBeGreaterThan(0);
    expect(m.weeks[0]).toEqual(expect.objectContaining({ deploymentFrequency: expect.any(Number), reworkRate: 0 }));
    const production = p.run(['metrics', '--json']).json();
    expect(production).toMatchObject({ deploymentFrequency: 0, leadTimeSeconds: null, changeFailureRate: null, timeToRestoreSeconds: null, reworkRate: null });
  });
});

describe('bad usage: exit 2 with the error JSON every other error has', () => {
  let p: Project;
  beforeAll(() => {
    p = createProject();
  });

  for (const [name, args, message] of [
    ['an unknown command', ['frobnicate'], /^unknown command 'frobnicate'/],
    ['an unknown option', ['release', 'list', '--frobnicate'], /^unknown option '--frobnicate'/],
    ['status without --to', ['status', REL], /^required option '--to <stage>' not specified/],
    ['signoff without --role', ['signoff', REL, '--to', 'production', '--as', 'carol'], /^required option '--role <role>' not specified/],
    ['check without its item', ['check', REL, '--to', 'staging'], /^missing required argument 'item'/],
  ] as const) {
    it(`${name}: {error: {code: TG_USAGE, message, hint}}`, () => {
      const err = expectError(p.run([...args, '--json']), 2, 'TG_USAGE');
      expect(err.message).toMatch(message);
    });
  }
});

describe('remote mode (--server URL, TOLLGATE_TOKEN) gives the answers of the local home', () => {
  let p: Project;
  let server: Served | undefined;
  let far: string;
  beforeAll(async () => {
    p = createProject();
    if (p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code !== 0) throw new Error('release create failed');
    server = await startServe(p.dir, { TOLLGATE_HOME: p.home });
    // A folder with no home of its own, as a reviewer's or an auditor's machine.
    far = path.join(p.dir, 'elsewhere');
    fs.mkdirSync(far);
  });
  afterAll(async () => {
    await server?.stop('SIGTERM');
  });

  const remote = (args: string[], env: Record<string, string>) => runInAsync(far, path.join(far, '.tollgate'), args, { env });

  it('keys show --server prints the key of the server it names (TOLLGATE_SERVER), as it does on its home', async () => {
    const token = p.run(['token', 'create', 'carol', '--json']).json().token as string;
    const local = p.run(['keys', 'show', '--server', '--json']).json().publicKey;
    const r = await remote(['keys', 'show', '--server', '--json'], { TOLLGATE_SERVER: server!.url, TOLLGATE_TOKEN: token });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json()).toEqual({ publicKey: local });
    const plain = await remote(['keys', 'show', '--server'], { TOLLGATE_SERVER: server!.url, TOLLGATE_TOKEN: token });
    expect(plain.stdout).toBe(`${local}\n`);
    // The global --server URL before the command, and keys show's own --server after it.
    const before = await remote(['--server', server!.url, 'keys', 'show', '--server', '--json'], { TOLLGATE_TOKEN: token });
    expect(before.code, before.stdout + before.stderr).toBe(0);
    expect(before.json()).toEqual({ publicKey: local });
    // After it, the URL would be read as a user name: refused, not answered with another key.
    const after = await remote(['keys', 'show', '--server', '--server', server!.url, '--json'], { TOLLGATE_TOKEN: token });
    expect(expectError(after, 2, 'TG_USAGE').message).toMatch(/takes a user or --server, not both/);
  });

  it('status: the same decision and exit code as on the home', async () => {
    const token = p.run(['token', 'create', 'dave', '--json']).json().token as string;
    const local = p.run(['status', REL, '--to', 'staging', '--json']);
    const r = await remote(['status', REL, '--to', 'staging', '--server', server!.url, '--json'], { TOLLGATE_TOKEN: token });
    expect(r.code).toBe(local.code);
    expect(r.code).toBe(3);
    const strip = (d: any) => d.gates.map((g: any) => [g.id, g.outcome, g.requirements.map((x: any) => [x.id, x.kind, x.outcome])]);
    expect(strip(r.json())).toEqual(strip(local.json()));
  });
});
