/**
 * Acceptance, end to end through the real binary: a freeze window and the stage order (`after`) each
 * block with their own reason; a `when: release.risk in ['high']` gate applies only to high-risk
 * releases. And the sign-off rules: separation of duties (owner, promoter), one person counts once,
 * a rejection blocks until its signer signs off again, and a change to a gate makes its sign-offs
 * stale while a change elsewhere leaves them alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, rosterYaml, type Project } from './helpers/cli.js';

const HIGH = 'fraud-detector@2.4.0';
const LOW = 'fraud-detector@2.4.1';

afterAll(() => removeProjects());

/** A timestamp with whole seconds, written as a policy would: 2026-11-30T01:02:03Z. */
function stamp(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}
function written(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

function gate(d: any, id: string): any {
  const g = d.gates.find((x: any) => x.id === id);
  if (!g) throw new Error(`no gate ${id} in ${JSON.stringify(d.gates.map((x: any) => x.id))}`);
  return g;
}
function requirement(d: any, gateId: string, id: string): any {
  const r = gate(d, gateId).requirements.find((x: any) => x.id === id);
  if (!r) throw new Error(`no requirement ${gateId}/${id}`);
  return r;
}
function outcomes(d: any): Record<string, string> {
  const out: Record<string, string> = {};
  for (const g of d.gates) for (const r of g.requirements) out[`${g.id}/${r.id}`] = r.outcome;
  return out;
}

describe('stage rules: freeze window, stage order and `when`', () => {
  let p: Project;
  const freezeStart = stamp(Date.now() - 60 * 60 * 1000);
  const freezeEnd = stamp(Date.now() + 3 * 60 * 60 * 1000);

  beforeAll(() => {
    p = createProject();
    p.write(
      'rules.yaml',
      `apiVersion: tollgate/v1
kind: Policy
name: rules
${rosterYaml(p)}
stages:
  - name: staging
  - name: canary
    freeze: ["${written(freezeStart)}/${written(freezeEnd)}", "2020-01-01T00:00:00Z/2020-01-02T00:00:00Z"]
  - name: production
    after: staging
    freeze: ["2020-12-24T00:00:00Z/2020-12-27T00:00:00Z"]
gates:
  - id: smoke
    stage: staging
    checklist:
      - { id: smoke-test, text: The smoke tests pass }
  - id: high-risk-review
    stage: staging
    when: "release.risk in ['high']"
    checklist:
      - { id: threat-model, text: A threat model is written }
  - id: canary-ready
    stage: canary
    checklist:
      - { id: canary-plan }
  - id: go-live
    stage: production
    checklist:
      - { id: runbook }
`,
    );
    p.write('release-low.yaml', p.read('release.yaml').replace('version: 2.4.0', 'version: 2.4.1').replace(/^risk: high\b/m, 'risk: low'));
  });

  it('applies the policy and registers a high-risk and a low-risk release', () => {
    const a = p.run(['policy', 'apply', 'rules.yaml', '--as', 'dave', '--json']);
    expect(a.code).toBe(0);
    expect(a.json()).toMatchObject({ name: 'rules', version: 2, changed: true });
    const high = p.run(['release', 'create', 'release.yaml', '--as', 'alice', '--json']);
    expect(high.code).toBe(0);
    expect(high.json().release).toBe(HIGH);
    const low = p.run(['release', 'create', 'release-low.yaml', '--as', 'alice', '--json']);
    expect(low.code).toBe(0);
    expect(low.json().release).toBe(LOW);
    expect(p.run(['release', 'show', LOW, '--json']).json().risk).toBe('low');
  });

  it('production before staging: blocked (exit 3) by `order` alone, with a reason naming staging', () => {
    expect(p.run(['check', HIGH, 'runbook', '--to', 'production', '--as', 'dave']).code).toBe(0);
    const r = p.run(['promote', HIGH, '--to', 'production', '--as', 'dave', '--json']);
    expect(r.code).toBe(3);
    const d = r.json();
    expect(d.promoted).toBe(false);
    expect(d.error.code).toBe('TG_PROMOTION_BLOCKED');
    expect(outcomes(d)).toEqual({ 'stage/order': 'failed', 'stage/freeze': 'satisfied', 'go-live/runbook': 'satisfied' });
    expect(gate(d, 'stage').outcome).toBe('failed');
    const order = requirement(d, 'stage', 'order');
    expect(order.kind).toBe('stage');
    expect(order.reason).toContain('production comes after staging');
    expect(order.reason).toContain(`${HIGH} has not been promoted to staging`);
    expect(d.error.message).toContain('stage/order failed');
    expect(d.error.message).not.toContain('freeze');
  });

  it('a `when: release.risk in [\'high\']` gate applies to the high-risk release only', () => {
    const high = p.run(['status', HIGH, '--to', 'staging', '--json']);
    expect(high.code).toBe(3);
    expect(high.json().gates.map((g: any) => g.id)).toEqual(['smoke', 'high-risk-review']);
    expect(high.json().notApplicable).toEqual([]);
    expect(requirement(high.json(), 'high-risk-review', 'threat-model').outcome).toBe('missing');

    const low = p.run(['status', LOW, '--to', 'staging', '--json']);
    expect(low.code).toBe(3);
    expect(low.json().gates.map((g: any) => g.id)).toEqual(['smoke']);
    expect(low.json().notApplicable).toEqual(['high-risk-review']);

    const plain = p.run(['status', LOW, '--to', 'staging']);
    expect(plain.code).toBe(3);
    expect(plain.stdout).not.toContain('gate high-risk-review');
    expect(plain.stdout).toContain('not applicable to this release: high-risk-review');
  });

  it('the low-risk release has no threat-model item and enters staging without it', () => {
    const item = p.run(['check', LOW, 'threat-model', '--to', 'staging', '--as', 'alice', '--json']);
    expect(item.code).toBe(2);
    expect(item.json().error.code).toBe('TG_ITEM_UNKNOWN');
    expect(p.run(['check', LOW, 'smoke-test', '--to', 'staging', '--as', 'alice']).code).toBe(0);
    const r = p.run(['promote', LOW, '--to', 'staging', '--as', 'dave', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().promoted).toBe(true);
    expect(r.json().gates.map((g: any) => g.id)).toEqual(['smoke']);
  });

  it('the high-risk release is blocked by the `when` gate until its item is done', () => {
    expect(p.run(['check', HIGH, 'smoke-test', '--to', 'staging', '--as', 'alice']).code).toBe(0);
    const blocked = p.run(['promote', HIGH, '--to', 'staging', '--as', 'dave', '--json']);
    expect(blocked.code).toBe(3);
    expect(outcomes(blocked.json())).toEqual({ 'smoke/smoke-test': 'satisfied', 'high-risk-review/threat-model': 'missing' });
    expect(p.run(['check', HIGH, 'threat-model', '--to', 'staging', '--as', 'alice']).code).toBe(0);
    const ok = p.run(['promote', HIGH, '--to', 'staging', '--as', 'dave', '--json']);
    expect(ok.code).toBe(0);
    expect(ok.json().promoted).toBe(true);
  });

  it('once in staging, the same production promotion passes the order check (exit 0)', () => {
    const r = p.run(['promote', HIGH, '--to', 'production', '--as', 'dave', '--json']);
    expect(r.code).toBe(0);
    expect(r.json().promoted).toBe(true);
    expect(outcomes(r.json())).toEqual({ 'stage/order': 'satisfied', 'stage/freeze': 'satisfied', 'go-live/runbook': 'satisfied' });
    expect(requirement(r.json(), 'stage', 'order').reason).toContain('was promoted to staging');
  });

  it('a freeze window around now blocks (exit 3) by `freeze` alone, with a reason naming the window', () => {
    expect(p.run(['check', HIGH, 'canary-plan', '--to', 'canary', '--as', 'dave']).code).toBe(0);
    const r = p.run(['promote', HIGH, '--to', 'canary', '--as', 'dave', '--json']);
    expect(r.code).toBe(3);
    const d = r.json();
    expect(d.promoted).toBe(false);
    expect(outcomes(d)).toEqual({ 'stage/freeze': 'failed', 'canary-ready/canary-plan': 'satisfied' });
    const freeze = requirement(d, 'stage', 'freeze');
    expect(freeze.kind).toBe('stage');
    expect(freeze.reason).toContain(`canary is frozen from ${freezeStart.toISOString()} until ${freezeEnd.toISOString()}`);
    expect(d.error.message).toContain('stage/freeze failed');

    const plain = p.run(['promote', HIGH, '--to', 'canary', '--as', 'dave']);
    expect(plain.code).toBe(3);
    expect(plain.stdout).toMatch(/stage freeze: failed — canary is frozen from /);
  });
});

describe('sign-off rules through the CLI', () => {
  let p: Project;
  const policy = (opts: { securityExpires: string; releaseChecklist: boolean }): string => `apiVersion: tollgate/v1
kind: Policy
name: signoffs
${rosterYaml(p)}
stages:
  - name: sod
  - name: pair
  - name: approve
gates:
  - id: owner-review
    stage: sod
    separationOfDuties: true
    signoffs:
      - { role: ml-engineer, count: 1 }
  - id: pair-review
    stage: pair
    signoffs:
      - { role: ml-engineer, count: 2 }
  - id: security-review
    stage: approve
    expires: ${opts.securityExpires}
    signoffs:
      - { role: security, count: 1 }
  - id: release-review
    stage: approve
    signoffs:
      - { role: release-manager, count: 1 }
${opts.releaseChecklist ? '    checklist:\n      - { id: change-ticket }\n' : ''}`;

  const status = (stage: string) => p.run(['status', HIGH, '--to', stage, '--json']);
  const signoff = (stage: string, role: string, user: string, ...extra: string[]) =>
    p.run(['signoff', HIGH, '--to', stage, '--role', role, '--as', user, ...extra]);

  beforeAll(() => {
    p = createProject();
    p.write('signoffs.yaml', policy({ securityExpires: '168h', releaseChecklist: false }));
    const a = p.run(['policy', 'apply', 'signoffs.yaml', '--as', 'dave', '--json']);
    if (a.code !== 0 || a.json().version !== 2) throw new Error(`policy apply failed: ${a.stdout}${a.stderr}`);
    const r = p.run(['release', 'create', 'release.yaml', '--as', 'alice']);
    if (r.code !== 0) throw new Error(`release create failed: ${r.stdout}${r.stderr}`);
  });

  it('separation of duties: the release owner\'s own sign-off is recorded but does not count', () => {
    const s = signoff('sod', 'ml-engineer', 'alice', '--json');
    expect(s.code).toBe(0);
    expect(s.json().signoffs).toHaveLength(1);
    // The signer is told at once that it will not count (issue 13).
    expect(s.json().warnings).toEqual(["alice's sign-off on gate owner-review will not count: alice is the release owner, and the gate has separation of duties"]);
    const r = status('sod');
    expect(r.code).toBe(3);
    const req = requirement(r.json(), 'owner-review', 'signoff:ml-engineer');
    expect(req.outcome).toBe('missing');
    expect(req.signers).toEqual([]);
    expect(req.reason).toContain('alice (the release owner, under separation of duties)');
    expect(req.canProvide).toEqual(['bob']);
  });

  it('separation of duties: another ml-engineer\'s sign-off counts, but not when that person promotes', () => {
    expect(signoff('sod', 'ml-engineer', 'bob').code).toBe(0);
    const r = status('sod');
    expect(r.code).toBe(0);
    const req = requirement(r.json(), 'owner-review', 'signoff:ml-engineer');
    expect(req.outcome).toBe('satisfied');
    expect(req.signers).toEqual(['bob']);

    const byBob = p.run(['promote', HIGH, '--to', 'sod', '--as', 'bob', '--json']);
    expect(byBob.code).toBe(3);
    const blocked = requirement(byBob.json(), 'owner-review', 'signoff:ml-engineer');
    expect(blocked.outcome).toBe('missing');
    expect(blocked.reason).toContain('bob (the person promoting, under separation of duties)');

    const byDave = p.run(['promote', HIGH, '--to', 'sod', '--as', 'dave', '--json']);
    expect(byDave.code).toBe(0);
    expect(byDave.json().promoted).toBe(true);
  });

  // Security finding 1 (issue 13): `owner` is free text the registrant writes. alice registering a
  // release "owned" by carol must not let her sign it off herself; and carol is still its owner.
  it('separation of duties: who registered the release is an owner too, whatever the manifest\'s `owner` says', () => {
    const OTHER = 'fraud-detector@2.4.2';
    p.write('release-bob.yaml', p.read('release.yaml').replace('version: 2.4.0', 'version: 2.4.2').replace(/^owner: .*$/m, 'owner: bob'));
    expect(p.run(['release', 'create', 'release-bob.yaml', '--as', 'alice']).code).toBe(0);
    const shown = p.run(['release', 'show', OTHER, '--json']).json();
    expect(shown).toMatchObject({ owner: 'bob', createdBy: 'alice' });

    const self = p.run(['signoff', OTHER, '--to', 'sod', '--role', 'ml-engineer', '--as', 'alice']);
    expect(self.code).toBe(0);
    expect(self.stdout).toContain("but: alice's sign-off on gate owner-review will not count: alice is the person who registered the release, and the gate has separation of duties");
    const mine = p.run(['status', OTHER, '--to', 'sod', '--json']);
    expect(mine.code).toBe(3);
    const req = requirement(mine.json(), 'owner-review', 'signoff:ml-engineer');
    expect(req.outcome).toBe('missing');
    expect(req.signers).toEqual([]);
    expect(req.reason).toContain('alice (who registered the release, under separation of duties)');
    // bob is the manifest's owner: not eligible either, so nobody in this roster can give it.
    expect(req.canProvide).toEqual([]);

    expect(p.run(['signoff', OTHER, '--to', 'sod', '--role', 'ml-engineer', '--as', 'bob']).code).toBe(0);
    const theirs = p.run(['promote', OTHER, '--to', 'sod', '--as', 'dave', '--json']);
    expect(theirs.code).toBe(3);
    expect(requirement(theirs.json(), 'owner-review', 'signoff:ml-engineer').reason).toContain('bob (the release owner, under separation of duties)');
  });

  it('the same person signing twice counts once: count 2 signed twice by bob stays missing', () => {
    expect(signoff('pair', 'ml-engineer', 'bob').code).toBe(0);
    expect(signoff('pair', 'ml-engineer', 'bob', '--comment', 'again').code).toBe(0);
    const r = status('pair');
    expect(r.code).toBe(3);
    const req = requirement(r.json(), 'pair-review', 'signoff:ml-engineer');
    expect(req.outcome).toBe('missing');
    expect(req.count).toBe(2);
    expect(req.signers).toEqual(['bob']);
    expect(req.reason).toContain('1 of 2 sign-offs by ml-engineer');
  });

  it('a second person makes the count of 2 (no separation of duties on this gate, so the owner counts)', () => {
    expect(signoff('pair', 'ml-engineer', 'alice').code).toBe(0);
    const r = status('pair');
    expect(r.code).toBe(0);
    const req = requirement(r.json(), 'pair-review', 'signoff:ml-engineer');
    expect(req.outcome).toBe('satisfied');
    expect([...req.signers].sort()).toEqual(['alice', 'bob']);
  });

  it('a --reject blocks (outcome failed) until the same person signs off again', () => {
    expect(signoff('approve', 'security', 'carol', '--reject', '--comment', 'SBOM missing').code).toBe(0);
    expect(signoff('approve', 'release-manager', 'dave').code).toBe(0);
    const rejected = status('approve');
    expect(rejected.code).toBe(3);
    expect(outcomes(rejected.json())).toEqual({
      'security-review/signoff:security': 'failed',
      'release-review/signoff:release-manager': 'satisfied',
    });
    expect(gate(rejected.json(), 'security-review').outcome).toBe('failed');
    const req = requirement(rejected.json(), 'security-review', 'signoff:security');
    expect(req.reason).toContain('rejected by carol');
    expect(req.reason).toContain('SBOM missing');

    expect(signoff('approve', 'security', 'carol', '--comment', 'SBOM reviewed').code).toBe(0);
    const approved = status('approve');
    expect(approved.code).toBe(0);
    expect(approved.json().promotable).toBe(true);
    expect(outcomes(approved.json())).toEqual({
      'security-review/signoff:security': 'satisfied',
      'release-review/signoff:release-manager': 'satisfied',
    });
  });

  it('changing a gate (its expires) makes its sign-offs stale; the other gates keep theirs', () => {
    p.write('signoffs.yaml', policy({ securityExpires: '72h', releaseChecklist: false }));
    const a = p.run(['policy', 'apply', 'signoffs.yaml', '--as', 'dave', '--json']);
    expect(a.code).toBe(0);
    expect(a.json()).toMatchObject({ version: 3, changed: true });

    const r = status('approve');
    expect(r.code).toBe(3);
    expect(outcomes(r.json())).toEqual({
      'security-review/signoff:security': 'stale',
      'release-review/signoff:release-manager': 'satisfied',
    });
    expect(gate(r.json(), 'security-review').outcome).toBe('stale');
    expect(requirement(r.json(), 'security-review', 'signoff:security').reason).toContain('stale: carol signed an earlier definition of gate security-review');
    expect(requirement(r.json(), 'release-review', 'signoff:release-manager').signers).toEqual(['dave']);

    // Gates of other stages are untouched too.
    const pair = status('pair');
    expect(pair.code).toBe(0);
    expect(requirement(pair.json(), 'pair-review', 'signoff:ml-engineer').outcome).toBe('satisfied');
  });

  it('adding a checklist item to a gate makes its sign-offs stale; a fresh sign-off on the changed gate counts', () => {
    p.write('signoffs.yaml', policy({ securityExpires: '72h', releaseChecklist: true }));
    const a = p.run(['policy', 'apply', 'signoffs.yaml', '--as', 'dave', '--json']);
    expect(a.code).toBe(0);
    expect(a.json()).toMatchObject({ version: 4, changed: true });
    expect(signoff('approve', 'security', 'carol').code).toBe(0);

    const r = status('approve');
    expect(r.code).toBe(3);
    expect(outcomes(r.json())).toEqual({
      'security-review/signoff:security': 'satisfied',
      'release-review/change-ticket': 'missing',
      'release-review/signoff:release-manager': 'stale',
    });
    expect(requirement(r.json(), 'release-review', 'signoff:release-manager').reason).toContain('stale: dave');
  });
});
