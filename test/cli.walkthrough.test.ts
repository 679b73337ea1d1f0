/**
 * Acceptance, end to end through the real binary: on the example policy, promote before any evidence
 * exits 3 naming every missing requirement; after checklist, sign-offs and staging, promote to
 * production exits 0; `status --json` shows each requirement's outcome. Also release create/list/show,
 * keys create, rollback and audit verify.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';

const REL = 'fraud-detector@2.4.0';
const REL2 = 'fraud-detector@2.5.0';
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The fields DESIGN.md promises for `status` / `promote` under `--json`, nothing else. */
function shape(d: any): unknown {
  return {
    release: d.release,
    stage: d.stage,
    promotable: d.promotable,
    gates: d.gates.map((g: any) => ({
      id: g.id,
      outcome: g.outcome,
      requirements: g.requirements.map((r: any) => ({ id: r.id, kind: r.kind, outcome: r.outcome })),
    })),
  };
}

function everyReasonIsText(d: any): void {
  for (const g of d.gates) {
    for (const r of g.requirements) {
      expect(typeof r.reason, `${g.id}/${r.id} reason`).toBe('string');
      expect(r.reason.length, `${g.id}/${r.id} reason`).toBeGreaterThan(10);
    }
  }
}

let p: Project;
let digest: string;

beforeAll(() => {
  p = createProject();
});
afterAll(() => removeProjects());

describe('walkthrough of the example policy, through the CLI binary', () => {
  it('init writes the example project, with 0600 private keys for the example users', () => {
    expect(p.init.users).toEqual({
      alice: expect.stringMatching(/^ed25519:/),
      bob: expect.stringMatching(/^ed25519:/),
      carol: expect.stringMatching(/^ed25519:/),
      dave: expect.stringMatching(/^ed25519:/),
      ci: expect.stringMatching(/^ed25519:/),
    });
    expect(p.init.policy).toMatchObject({ name: 'fraud-platform', version: 1, changed: true });
    for (const f of ['tollgate.yaml', 'release.yaml', 'model/model.onnx', 'data/datasets.md', 'docs/rollback-plan.md']) {
      expect(fs.existsSync(path.join(p.dir, f)), f).toBe(true);
    }
    // Security finding 10 (issue 13): the example users' keys are demo keys, kept apart and labelled.
    expect(p.init.demoKeys).toBe(path.join(p.home, 'demo-keys'));
    for (const u of ['alice', 'bob', 'carol', 'dave', 'ci']) {
      expect(fs.statSync(path.join(p.home, 'demo-keys', `${u}.key`)).mode & 0o777, u).toBe(0o600);
      expect(fs.existsSync(path.join(p.home, 'keys', `${u}.key`)), u).toBe(false);
    }
    expect(fs.readFileSync(path.join(p.home, 'demo-keys', 'README'), 'utf8')).toMatch(/^DEMO KEYS: for trying Tollgate on its example project only\.[\s\S]*can sign off as any of these users/);
    expect(fs.statSync(path.join(p.home, 'server.key')).mode & 0o777).toBe(0o600);
  });

  it('release create --json prints {release, digest}', () => {
    const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice', '--json']);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(out.release).toBe(REL);
    expect(out.digest).toMatch(DIGEST);
    digest = out.digest;
  });

  it('promote before any evidence exits 3 and names every missing requirement (plain text)', () => {
    const r = p.run(['promote', REL, '--to', 'staging', '--as', 'dave']);
    expect(r.code).toBe(3);
    const text = r.stdout + r.stderr;
    expect(text).toContain(`${REL} cannot be promoted to staging`);
    expect(text).toMatch(/checklist datasets-listed: missing/);
    expect(text).toMatch(/checklist model-card: missing/);
    // A sign-off requirement (id `signoff:ml-engineer`) is named by its role in the human output.
    expect(text).toMatch(/sign-off by ml-engineer: missing/);
    expect(text).toContain('gate inventory: missing');
    expect(text).toMatch(/validation drift: missing/);
    expect(text).toContain('gate peer-review: missing');
  });

  it('promote --json before any evidence: promoted false, every requirement missing, error TG_PROMOTION_BLOCKED', () => {
    const r = p.run(['promote', REL, '--to', 'staging', '--as', 'dave', '--json']);
    expect(r.code).toBe(3);
    const d = r.json();
    expect(d.promoted).toBe(false);
    expect(d.releaseDigest).toBe(digest);
    expect(shape(d)).toEqual({
      release: REL,
      stage: 'staging',
      promotable: false,
      gates: [
        {
          id: 'inventory',
          outcome: 'missing',
          requirements: [
            { id: 'datasets-listed', kind: 'checklist', outcome: 'missing' },
            { id: 'model-card', kind: 'checklist', outcome: 'missing' },
          ],
        },
        {
          id: 'automated',
          outcome: 'missing',
          requirements: ['tests', 'contract', 'drift', 'quality', 'security'].map((id) => ({ id, kind: 'validation', outcome: 'missing' })),
        },
        { id: 'peer-review', outcome: 'missing', requirements: [{ id: 'signoff:ml-engineer', kind: 'signoff', outcome: 'missing' }] },
      ],
    });
    everyReasonIsText(d);
    expect(d.error.code).toBe('TG_PROMOTION_BLOCKED');
    for (const id of ['inventory/datasets-listed', 'inventory/model-card', 'automated/drift', 'peer-review/signoff:ml-engineer']) {
      expect(d.error.message).toContain(id);
    }
  });

  it('promote --json to production before any evidence names the stage order and every production requirement', () => {
    const r = p.run(['promote', REL, '--to', 'production', '--as', 'dave', '--json']);
    expect(r.code).toBe(3);
    const d = r.json();
    expect(d.promoted).toBe(false);
    expect(shape(d)).toEqual({
      release: REL,
      stage: 'production',
      promotable: false,
      gates: [
        {
          id: 'stage',
          outcome: 'failed',
          requirements: [
            { id: 'order', kind: 'stage', outcome: 'failed' },
            { id: 'freeze', kind: 'stage', outcome: 'satisfied' },
          ],
        },
        {
          id: 'approvals',
          outcome: 'missing',
          requirements: [
            { id: 'signoff:ml-engineer', kind: 'signoff', outcome: 'missing' },
            { id: 'signoff:security', kind: 'signoff', outcome: 'missing' },
          ],
        },
        {
          id: 'rollback-readiness',
          outcome: 'missing',
          requirements: [
            { id: 'rollback-plan', kind: 'checklist', outcome: 'missing' },
            { id: 'alerts-tested', kind: 'checklist', outcome: 'missing' },
            { id: 'parity', kind: 'validation', outcome: 'missing' },
          ],
        },
      ],
    });
    everyReasonIsText(d);
  });

  it('after the checklist, the validations and a sign-off by a non-owner, status --json shows staging promotable (exit 0)', () => {
    expect(p.run(['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']).code).toBe(0);
    expect(p.run(['validate', REL, '--to', 'staging', '--as', 'ci']).code).toBe(0);
    expect(p.run(['check', REL, 'model-card', '--to', 'staging', '--as', 'alice']).code).toBe(0);
    const s = p.run(['signoff', REL, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob', '--comment', 'reviewed', '--json']);
    expect(s.code).toBe(0);
    expect(s.json().signoffs).toEqual([
      expect.objectContaining({ release: REL, releaseDigest: digest, stage: 'staging', gate: 'peer-review', role: 'ml-engineer', decision: 'approve', signer: 'bob', comment: 'reviewed' }),
    ]);

    const r = p.run(['status', REL, '--to', 'staging', '--json']);
    expect(r.code).toBe(0);
    const d = r.json();
    expect(d.promoted).toBeUndefined();
    expect(shape(d)).toEqual({
      release: REL,
      stage: 'staging',
      promotable: true,
      gates: [
        {
          id: 'inventory',
          outcome: 'satisfied',
          requirements: [
            { id: 'datasets-listed', kind: 'checklist', outcome: 'satisfied' },
            { id: 'model-card', kind: 'checklist', outcome: 'satisfied' },
          ],
        },
        {
          id: 'automated',
          outcome: 'satisfied',
          requirements: ['tests', 'contract', 'drift', 'quality', 'security'].map((id) => ({ id, kind: 'validation', outcome: 'satisfied' })),
        },
        { id: 'peer-review', outcome: 'satisfied', requirements: [{ id: 'signoff:ml-engineer', kind: 'signoff', outcome: 'satisfied' }] },
      ],
    });
    everyReasonIsText(d);
    expect(d.gates[0].requirements[0].reason).toContain('datasets.md');
    expect(d.gates[2].requirements[0].signers).toEqual(['bob']);
  });

  it('promote --json to staging: promoted true, exit 0', () => {
    const r = p.run(['promote', REL, '--to', 'staging', '--as', 'dave', '--json']);
    expect(r.code).toBe(0);
    const d = r.json();
    expect(d.promoted).toBe(true);
    expect(d.promotable).toBe(true);
    expect(d.release).toBe(REL);
    expect(d.stage).toBe('staging');
    expect(d.error).toBeUndefined();
  });

  it('status --json for production shows each requirement\'s own outcome as evidence arrives', () => {
    expect(p.run(['signoff', REL, '--to', 'production', '--role', 'security', '--as', 'carol']).code).toBe(0);
    expect(p.run(['check', REL, 'rollback-plan', '--to', 'production', '--evidence', 'docs/rollback-plan.md', '--as', 'dave']).code).toBe(0);
    const r = p.run(['status', REL, '--to', 'production', '--json']);
    expect(r.code).toBe(3);
    const d = r.json();
    expect(shape(d)).toEqual({
      release: REL,
      stage: 'production',
      promotable: false,
      gates: [
        {
          id: 'stage',
          outcome: 'satisfied',
          requirements: [
            { id: 'order', kind: 'stage', outcome: 'satisfied' },
            { id: 'freeze', kind: 'stage', outcome: 'satisfied' },
          ],
        },
        {
          id: 'approvals',
          outcome: 'missing',
          requirements: [
            { id: 'signoff:ml-engineer', kind: 'signoff', outcome: 'missing' },
            { id: 'signoff:security', kind: 'signoff', outcome: 'satisfied' },
          ],
        },
        {
          id: 'rollback-readiness',
          outcome: 'missing',
          requirements: [
            { id: 'rollback-plan', kind: 'checklist', outcome: 'satisfied' },
            { id: 'alerts-tested', kind: 'checklist', outcome: 'missing' },
            { id: 'parity', kind: 'validation', outcome: 'missing' },
          ],
        },
      ],
    });
    everyReasonIsText(d);
  });

  it('after the remaining sign-off and checklist item, promote to production exits 0 with promoted true', () => {
    expect(p.run(['signoff', REL, '--to', 'production', '--role', 'ml-engineer', '--as', 'bob']).code).toBe(0);
    expect(p.run(['check', REL, 'alerts-tested', '--to', 'production', '--as', 'dave', '--note', 'paged the on-call']).code).toBe(0);
    expect(p.run(['validate', REL, '--to', 'production', '--as', 'ci']).code).toBe(0);
    const r = p.run(['promote', REL, '--to', 'production', '--as', 'dave', '--json']);
    expect(r.code).toBe(0);
    const d = r.json();
    expect(d.promoted).toBe(true);
    expect(shape(d)).toEqual({
      release: REL,
      stage: 'production',
      promotable: true,
      gates: [
        {
          id: 'stage',
          outcome: 'satisfied',
          requirements: [
            { id: 'order', kind: 'stage', outcome: 'satisfied' },
            { id: 'freeze', kind: 'stage', outcome: 'satisfied' },
          ],
        },
        {
          id: 'approvals',
          outcome: 'satisfied',
          requirements: [
            { id: 'signoff:ml-engineer', kind: 'signoff', outcome: 'satisfied' },
            { id: 'signoff:security', kind: 'signoff', outcome: 'satisfied' },
          ],
        },
        {
          id: 'rollback-readiness',
          outcome: 'satisfied',
          requirements: [
            { id: 'rollback-plan', kind: 'checklist', outcome: 'satisfied' },
            { id: 'alerts-tested', kind: 'checklist', outcome: 'satisfied' },
            { id: 'parity', kind: 'validation', outcome: 'satisfied' },
          ],
        },
      ],
    });
    everyReasonIsText(d);
  }, 90_000);

  it('release show --json: digest, risk, owner, the stages it holds and its promotions', () => {
    const r = p.run(['release', 'show', REL, '--json']);
    expect(r.code).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({ release: REL, subject: 'fraud-detector', version: '2.4.0', digest, risk: 'high', owner: 'alice', createdBy: 'alice' });
    expect([...s.holds].sort()).toEqual(['production', 'staging']);
    expect(s.promotions.map((x: any) => [x.stage, x.kind, x.by])).toEqual([
      ['staging', 'promotion', 'dave'],
      ['production', 'promotion', 'dave'],
    ]);
    expect(s.manifest.artifacts.map((a: any) => a.name)).toEqual(['model', 'train-data', 'code']);
    expect(s.manifest.artifacts[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('release list (plain and --json) lists the release with the stages it holds', () => {
    const r = p.run(['release', 'list', '--json']);
    expect(r.code).toBe(0);
    const list = r.json().releases;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ release: REL, digest, risk: 'high', owner: 'alice' });
    expect([...list[0].holds].sort()).toEqual(['production', 'staging']);
    const plain = p.run(['release', 'list']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(REL);
    expect(plain.stdout).toMatch(/holds (staging, production|production, staging)/);
  });

  it('keys create USER --json prints {user, publicKey}; the private key file has mode 0600', () => {
    const r = p.run(['keys', 'create', 'erin', '--json']);
    expect(r.code).toBe(0);
    const out = r.json();
    expect(Object.keys(out).sort()).toEqual(['publicKey', 'user']);
    expect(out.user).toBe('erin');
    expect(out.publicKey).toMatch(/^ed25519:[A-Za-z0-9+/]+=*$/);
    const keyFile = path.join(p.home, 'keys', 'erin.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(keyFile, 'utf8')).toContain('PRIVATE KEY');
    const show = p.run(['keys', 'show', 'erin', '--json']);
    expect(show.code).toBe(0);
    expect(show.json()).toEqual({ user: 'erin', publicKey: out.publicKey });
  });

  it('keys show marks a demo key from init as demo; a user\'s own key replaces it', () => {
    const demo = p.run(['keys', 'show', 'bob', '--json']);
    expect(demo.code).toBe(0);
    expect(demo.json()).toEqual({ user: 'bob', publicKey: p.init.users.bob, demo: true });
    const plain = p.run(['keys', 'show', 'bob']);
    expect(plain.stdout.trim()).toBe(p.init.users.bob);
    expect(plain.stderr).toContain("bob's key is a DEMO key from init");
    const q = p.clone();
    const own = q.run(['keys', 'create', 'bob', '--json']);
    expect(own.code).toBe(0);
    expect(q.run(['keys', 'show', 'bob', '--json']).json()).toEqual({ user: 'bob', publicKey: own.json().publicKey });
  });

  it('keys show of a user with no key says so without talking of private keys', () => {
    const r = p.run(['keys', 'show', 'nobody', '--json']);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe('TG_KEY_MISSING');
    expect(r.json().error.message).toMatch(/^no key of nobody in .*: create a key pair with `tollgate keys create nobody`$/);
  });

  it('a sign-off with a demo key says so on stderr', () => {
    const q = p.clone();
    const r = q.run(['signoff', REL, '--to', 'production', '--role', 'security', '--as', 'carol']);
    expect(r.stderr).toContain("signed with carol's DEMO key from init");
  });

  it('rollback after two releases were promoted to staging puts back the first; it needs --reason', () => {
    p.write('release-2.5.0.yaml', p.read('release.yaml').replace('version: 2.4.0', 'version: 2.5.0'));
    const c = p.run(['release', 'create', 'release-2.5.0.yaml', '--as', 'alice', '--json']);
    expect(c.code).toBe(0);
    expect(c.json().release).toBe(REL2);
    expect(c.json().digest).not.toBe(digest);
    expect(p.run(['check', REL2, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice']).code).toBe(0);
    expect(p.run(['check', REL2, 'model-card', '--to', 'staging', '--as', 'alice']).code).toBe(0);
    // 2.4.0 holds production now, so the quality rules compare against its recorded metrics.
    const v = p.run(['validate', REL2, '--to', 'staging', '--as', 'ci', '--json']);
    expect(v.code).toBe(0);
    expect(v.json().results.find((x: any) => x.id === 'quality').measurements.baseline).toMatchObject({ ref: 'production', release: REL });
    expect(p.run(['signoff', REL2, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob']).code).toBe(0);
    const promoted = p.run(['promote', REL2, '--to', 'staging', '--as', 'dave', '--json']);
    expect(promoted.code).toBe(0);
    expect(promoted.json().promotion).toMatchObject({ stage: 'staging', version: '2.5.0', previousVersion: '2.4.0' });

    const noReason = p.run(['rollback', 'fraud-detector', '--stage', 'staging', '--as', 'dave', '--json']);
    expect(noReason.code).toBe(2);
    expect(noReason.json().error.code).toBe('TG_USAGE');
    expect(noReason.json().error.message).toContain('--reason');

    const rb = p.run(['rollback', 'fraud-detector', '--stage', 'staging', '--reason', 'p95 latency regression', '--as', 'dave', '--json']);
    expect(rb.code).toBe(0);
    const out = rb.json();
    expect(out).toMatchObject({ subject: 'fraud-detector', stage: 'staging', from: REL2, to: REL });
    expect(out.promotion).toMatchObject({ kind: 'rollback', version: '2.4.0', reason: 'p95 latency regression', by: 'dave' });
  }, 90_000);

  it('after the rollback the first release holds staging again and the second holds nothing', () => {
    const first = p.run(['release', 'show', REL, '--json']).json();
    expect([...first.holds].sort()).toEqual(['production', 'staging']);
    expect(first.promotions.map((x: any) => [x.stage, x.kind])).toEqual([
      ['staging', 'promotion'],
      ['production', 'promotion'],
      ['staging', 'rollback'],
    ]);
    const second = p.run(['release', 'show', REL2, '--json']).json();
    expect(second.holds).toEqual([]);
    // status agrees: the first release already holds staging, so there is nothing to promote.
    const st = p.run(['status', REL, '--to', 'staging', '--json']);
    expect(st.code).toBe(3);
    const stageGate = st.json().gates.find((g: any) => g.id === 'stage');
    expect(stageGate.requirements).toEqual([expect.objectContaining({ id: 'holder', kind: 'stage', outcome: 'failed' })]);
    expect(stageGate.requirements[0].reason).toContain(`${REL} already holds staging`);
  });

  it('audit verify --json: ok, the number of events and the head hash of the log', () => {
    const r = p.run(['audit', 'verify', '--json']);
    expect(r.code).toBe(0);
    const out = r.json();
    const db = p.openDb();
    const last = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    db.close();
    expect(out).toEqual({ ok: true, events: last.seq, head: last.hash, root: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(out.events).toBeGreaterThan(15);
    expect(out.head).toMatch(/^[0-9a-f]{64}$/);
    const plain = p.run(['audit', 'verify']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`audit log ok: ${last.seq} events, head ${last.hash}`);
  });
});
