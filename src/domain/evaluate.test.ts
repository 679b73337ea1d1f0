import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from './digest.js';
import { evaluate, matchSigners, type EvaluateContext } from './evaluate.js';
import { evidenceSetDigest } from './records.js';
import { generateKeyPair, loadPrivateKey } from './keys.js';
import { gateDigest, itemDigest } from './policy.js';
import { signSignoff } from './signoff.js';
import type { ChecklistCompletion, EvidenceSet, ExceptionPayload, ExceptionSignoff, GateDef, Policy, Promotion, Release, RiskTier, Signoff, SignoffPayload } from './model.js';
import { breakGlassFor, signException } from './exception.js';

// Real Ed25519 keys: the evaluation verifies every signature, so fakes would prove nothing.
const USERS = ['alice', 'bob', 'erin', 'carol', 'dave', 'mallory'] as const;
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<(typeof USERS)[number], ReturnType<typeof generateKeyPair>>;
const ROLES: Record<string, string[]> = { alice: ['ml-engineer'], bob: ['ml-engineer'], erin: ['ml-engineer', 'security'], carol: ['security'], dave: ['release-manager'] };

const APPROVALS: GateDef = {
  id: 'approvals',
  stage: 'production',
  separationOfDuties: true,
  expires: '168h',
  signoffs: [
    { role: 'ml-engineer', count: 1 },
    { role: 'security', count: 1, when: "release.risk in ['high', 'critical']" },
  ],
};

function policyWith(gates: GateDef[], stages: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging' }]): Policy {
  return {
    apiVersion: 'tollgate/v1',
    kind: 'Policy',
    name: 'test',
    // mallory has a key pair but is not in the roster.
    roster: Object.fromEntries(Object.entries(ROLES).map(([u, roles]) => [u, { roles, key: KEYS[u as 'alice'].publicKey }])),
    stages,
    gates,
  };
}

function releaseOf(risk: RiskTier = 'high', version = '2.4.0'): Release {
  const manifest = { subject: 'fraud-detector', version, risk, owner: 'alice', artifacts: [{ name: 'model', kind: 'model' as const, sha256: 'a'.repeat(64) }] };
  return { subject: 'fraud-detector', version, digest: digestOf(manifest), manifest, createdAt: '2026-11-01T00:00:00Z', createdBy: 'alice' };
}

const NOW = new Date('2026-11-30T12:00:00Z');

function signoff(
  release: Release,
  gate: GateDef,
  signer: (typeof USERS)[number],
  role: string,
  opts: { decision?: 'approve' | 'reject'; at?: string; gateDigest?: Digest; signWith?: (typeof USERS)[number]; evidenceDigest?: Digest } = {},
): Signoff {
  const payload: SignoffPayload = {
    type: 'tollgate/signoff/v1',
    release: `${release.subject}@${release.version}`,
    releaseDigest: release.digest,
    stage: gate.stage,
    gate: gate.id,
    gateDigest: opts.gateDigest ?? gateDigest(gate),
    role,
    decision: opts.decision ?? 'approve',
    signer,
    at: opts.at ?? '2026-11-30T10:00:00Z',
    ...(opts.evidenceDigest !== undefined ? { evidenceDigest: opts.evidenceDigest } : {}),
  };
  const key = loadPrivateKey(KEYS[opts.signWith ?? signer].privateKeyPem);
  return { ...payload, id: `${signer}-${role}-${payload.at}`, signature: signSignoff(payload, key) };
}

function evidence(signoffs: Signoff[] = [], checklist: ChecklistCompletion[] = []): EvidenceSet {
  return { signoffs, checklist, validations: [] };
}

function ctx(over: Partial<EvaluateContext> = {}): EvaluateContext {
  const staged: Promotion = {
    id: 'p1',
    subject: 'fraud-detector',
    stage: 'staging',
    version: '2.4.0',
    releaseDigest: releaseOf().digest,
    policyVersion: 1,
    policyDigest: digestOf('p'),
    kind: 'promotion',
    by: 'dave',
    at: '2026-11-29T00:00:00Z',
  };
  return { stage: 'production', policyDigest: digestOf('policy'), history: [staged], promoter: 'dave', ...over };
}

function requirement(decision: ReturnType<typeof evaluate>, gate: string, id: string) {
  const r = decision.gates.find((g) => g.id === gate)?.requirements.find((q) => q.id === id);
  if (!r) throw new Error(`no requirement ${gate}/${id} in ${JSON.stringify(decision.gates)}`);
  return r;
}

describe('evaluate: sign-offs', () => {
  const release = releaseOf('high');
  const policy = policyWith([APPROVALS]);

  it('is satisfied by a valid sign-off per role from people other than the owner and promoter', () => {
    const d = evaluate(policy, release, evidence([signoff(release, APPROVALS, 'bob', 'ml-engineer'), signoff(release, APPROVALS, 'carol', 'security')]), NOW, ctx());
    expect(d.promotable).toBe(true);
    expect(requirement(d, 'approvals', 'signoff:ml-engineer')).toMatchObject({ kind: 'signoff', outcome: 'satisfied', signers: ['bob'] });
  });

  it.each([
    ['the release owner', 'alice', 'dave', /alice \(the release owner/],
    ['the person promoting', 'bob', 'bob', /bob \(the person promoting/],
  ])('does not count a self sign-off by %s under separation of duties', (_, signer, promoter, reason) => {
    const s = [signoff(release, APPROVALS, signer as 'alice', 'ml-engineer'), signoff(release, APPROVALS, 'carol', 'security')];
    const d = evaluate(policy, release, evidence(s), NOW, ctx({ promoter }));
    const r = requirement(d, 'approvals', 'signoff:ml-engineer');
    expect(r.outcome).toBe('missing');
    expect(r.reason).toMatch(reason);
    expect(d.promotable).toBe(false);
  });

  // The manifest's `owner` is free text its registrant writes: alice registering a release "owned"
  // by bob must not let her approve it herself, and bob is still its owner.
  it.each([
    ['who registered it', 'alice', /alice \(who registered the release, under separation of duties/],
    ['the manifest owner', 'bob', /bob \(the release owner, under separation of duties/],
  ])('does not count %s when the manifest owner is not the registrant, under separation of duties', (_, signer, reason) => {
    const manifest = { ...release.manifest, owner: 'bob' };
    const theirs: Release = { ...release, manifest, digest: digestOf(manifest), createdBy: 'alice' };
    const s = [signoff(theirs, APPROVALS, signer as 'alice', 'ml-engineer'), signoff(theirs, APPROVALS, 'carol', 'security')];
    const d = evaluate(policy, theirs, evidence(s), NOW, ctx());
    const r = requirement(d, 'approvals', 'signoff:ml-engineer');
    expect(r.outcome).toBe('missing');
    expect(r.reason).toMatch(reason);
    // Neither is offered as someone who could still give it (the desk's queue reads this).
    expect(r.canProvide).toEqual(['erin']);
    expect(d.promotable).toBe(false);
  });

  it('counts the registrant and the manifest owner without separation of duties', () => {
    const gate: GateDef = { ...APPROVALS, separationOfDuties: false };
    const manifest = { ...release.manifest, owner: 'bob' };
    const theirs: Release = { ...release, manifest, digest: digestOf(manifest), createdBy: 'alice' };
    const d = evaluate(policyWith([gate]), theirs, evidence([signoff(theirs, gate, 'alice', 'ml-engineer'), signoff(theirs, gate, 'carol', 'security')]), NOW, ctx());
    expect(requirement(d, 'approvals', 'signoff:ml-engineer').outcome).toBe('satisfied');
  });

  it('counts the owner without separation of duties', () => {
    const gate: GateDef = { ...APPROVALS, separationOfDuties: false };
    const d = evaluate(policyWith([gate]), release, evidence([signoff(release, gate, 'alice', 'ml-engineer'), signoff(release, gate, 'carol', 'security')]), NOW, ctx());
    expect(requirement(d, 'approvals', 'signoff:ml-engineer').outcome).toBe('satisfied');
  });

  it('counts two sign-offs by one person once', () => {
    const gate: GateDef = { id: 'approvals', stage: 'production', signoffs: [{ role: 'ml-engineer', count: 2 }] };
    const s = [signoff(release, gate, 'bob', 'ml-engineer', { at: '2026-11-30T09:00:00Z' }), signoff(release, gate, 'bob', 'ml-engineer')];
    const r = requirement(evaluate(policyWith([gate]), release, evidence(s), NOW, ctx()), 'approvals', 'signoff:ml-engineer');
    expect(r.outcome).toBe('missing');
    expect(r.signers).toEqual(['bob']);
    expect(r.reason).toMatch(/1 of 2/);
  });

  it('counts one person once per gate under separation of duties, even holding two roles', () => {
    const s = [signoff(release, APPROVALS, 'erin', 'ml-engineer'), signoff(release, APPROVALS, 'erin', 'security')];
    const d = evaluate(policy, release, evidence(s), NOW, ctx());
    const filled = d.gates[1]!.requirements.filter((r) => r.outcome === 'satisfied');
    expect(filled).toHaveLength(1);
    expect(d.promotable).toBe(false);
    // With bob for ml-engineer, erin fills security: the matching finds the assignment that works.
    const d2 = evaluate(policy, release, evidence([...s, signoff(release, APPROVALS, 'bob', 'ml-engineer')]), NOW, ctx());
    expect(d2.promotable).toBe(true);
    expect(requirement(d2, 'approvals', 'signoff:security').signers).toEqual(['erin']);
  });

  it('blocks on a rejection until the same signer signs off again', () => {
    const rejected = [signoff(release, APPROVALS, 'bob', 'ml-engineer'), signoff(release, APPROVALS, 'carol', 'security', { decision: 'reject', at: '2026-11-30T10:00:00Z' })];
    const d = evaluate(policy, release, evidence(rejected), NOW, ctx());
    expect(requirement(d, 'approvals', 'signoff:security')).toMatchObject({ outcome: 'failed' });
    expect(requirement(d, 'approvals', 'signoff:security').reason).toMatch(/rejected by carol/);
    expect(d.gates.find((g) => g.id === 'approvals')!.outcome).toBe('failed');
    // Another security reviewer's approval does not lift carol's rejection …
    const other = evaluate(policy, release, evidence([...rejected, signoff(release, APPROVALS, 'erin', 'security')]), NOW, ctx());
    expect(requirement(other, 'approvals', 'signoff:security').outcome).toBe('failed');
    // … carol's own later approval does.
    const again = evaluate(policy, release, evidence([...rejected, signoff(release, APPROVALS, 'carol', 'security', { at: '2026-11-30T11:00:00Z' })]), NOW, ctx());
    expect(again.promotable).toBe(true);
  });

  it('marks a sign-off older than `expires` as expired', () => {
    const old = '2026-11-20T10:00:00Z'; // ten days before NOW, gate expires after 168h
    const d = evaluate(policy, release, evidence([signoff(release, APPROVALS, 'bob', 'ml-engineer', { at: old }), signoff(release, APPROVALS, 'carol', 'security')]), NOW, ctx());
    const r = requirement(d, 'approvals', 'signoff:ml-engineer');
    expect(r.outcome).toBe('expired');
    expect(r.reason).toMatch(/expired: bob signed more than 168h ago/);
    expect(d.promotable).toBe(false);
  });

  it('marks sign-offs stale when their gate changes, and leaves them alone when another gate changes', () => {
    const s = [signoff(release, APPROVALS, 'bob', 'ml-engineer'), signoff(release, APPROVALS, 'carol', 'security')];
    const other: GateDef = { id: 'rollback-readiness', stage: 'production', checklist: [{ id: 'alerts-tested' }] };
    const otherChanged: GateDef = { ...other, checklist: [{ id: 'alerts-tested' }, { id: 'runbook' }] };
    const changedGate: GateDef = { ...APPROVALS, expires: '72h' };

    const before = evaluate(policyWith([APPROVALS, other]), release, evidence(s), NOW, ctx());
    expect(before.gates.find((g) => g.id === 'approvals')!.outcome).toBe('satisfied');

    const afterOther = evaluate(policyWith([APPROVALS, otherChanged]), release, evidence(s), NOW, ctx());
    expect(afterOther.gates.find((g) => g.id === 'approvals')!.outcome).toBe('satisfied');

    const afterOwn = evaluate(policyWith([changedGate, other]), release, evidence(s), NOW, ctx());
    expect(requirement(afterOwn, 'approvals', 'signoff:ml-engineer').outcome).toBe('stale');
    expect(requirement(afterOwn, 'approvals', 'signoff:security').outcome).toBe('stale');
  });

  it.each<[string, (s: Signoff) => Signoff]>([
    ['role changed', (s) => ({ ...s, role: 'security' })],
    ['decision changed', (s) => ({ ...s, decision: 'approve', comment: 'x' })],
    ['signer changed', (s) => ({ ...s, signer: 'erin' })],
    ['time changed', (s) => ({ ...s, at: '2026-11-30T11:59:00Z' })],
    ['release name changed', (s) => ({ ...s, release: 'fraud-detector@9.9.9' })],
    ['gate digest changed', (s) => ({ ...s, gateDigest: digestOf('another gate') })],
    ['signature bytes changed', (s) => ({ ...s, signature: Buffer.from('x'.repeat(64)).toString('base64') })],
  ])('ignores a sign-off whose signed fields were edited: %s', (_, forge) => {
    // Start from carol's rejection so that every edit would turn it into an approval that counts.
    const genuine = signoff(release, APPROVALS, 'carol', 'security', { decision: 'reject' });
    const forged = forge(genuine);
    const d = evaluate(policy, release, evidence([signoff(release, APPROVALS, 'bob', 'ml-engineer'), { ...forged, decision: 'approve' }]), NOW, ctx());
    expect(requirement(d, 'approvals', 'signoff:security').outcome).not.toBe('satisfied');
    expect(requirement(d, 'approvals', 'signoff:security').reason).toMatch(/signature does not verify|no longer holds/);
  });

  it('ignores a sign-off signed by a key that is not in the roster', () => {
    const forged = signoff(release, APPROVALS, 'carol', 'security', { signWith: 'mallory' });
    const d = evaluate(policy, release, evidence([signoff(release, APPROVALS, 'bob', 'ml-engineer'), forged]), NOW, ctx());
    expect(requirement(d, 'approvals', 'signoff:security').outcome).toBe('missing');
    expect(requirement(d, 'approvals', 'signoff:security').reason).toMatch(/signature does not verify/);
  });

  it('does not let a forged rejection by a non-member block', () => {
    const forged = { ...signoff(release, APPROVALS, 'mallory', 'security', { decision: 'reject' }) };
    const s = [signoff(release, APPROVALS, 'bob', 'ml-engineer'), signoff(release, APPROVALS, 'carol', 'security'), forged];
    expect(evaluate(policy, release, evidence(s), NOW, ctx()).promotable).toBe(true);
  });

  // Security finding 6 (issue 13): names Object.prototype has are nobody, not a crash.
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('ignores a sign-off by %s, a name no roster member has', (name) => {
    const forged = { ...signoff(release, APPROVALS, 'mallory', 'security', { decision: 'reject' }), signer: name };
    const s = [signoff(release, APPROVALS, 'bob', 'ml-engineer'), signoff(release, APPROVALS, 'carol', 'security'), forged];
    const d = evaluate(policy, release, evidence(s), NOW, ctx());
    expect(d.promotable).toBe(true);
    expect(requirement(d, 'approvals', 'signoff:security').reason).toContain(`a sign-off as ${name} whose signature does not verify`);
  });

  // Security finding 8 (issue 13): a stored sign-off dated without a zone would expire at another
  // instant in every time zone the decision is made in; it does not count.
  it('does not count a stored sign-off whose time is not RFC 3339 UTC', () => {
    const local = signoff(release, APPROVALS, 'carol', 'security', { at: '2026-11-30T10:00:00' });
    const d = evaluate(policy, release, evidence([signoff(release, APPROVALS, 'bob', 'ml-engineer'), local]), NOW, ctx());
    expect(requirement(d, 'approvals', 'signoff:security').outcome).toBe('missing');
    expect(requirement(d, 'approvals', 'signoff:security').reason).toContain('a sign-off as carol dated "2026-11-30T10:00:00", not a time in UTC');
  });

  it('applies a `when` rule only to the releases it names', () => {
    const low = releaseOf('low', '2.5.0');
    const d = evaluate(policy, low, evidence([signoff(low, APPROVALS, 'bob', 'ml-engineer')]), NOW, ctx({ history: [{ ...ctx().history[0]!, releaseDigest: low.digest }] }));
    expect(d.gates.find((g) => g.id === 'approvals')!.requirements.map((r) => r.id)).toEqual(['signoff:ml-engineer']);
    expect(d.promotable).toBe(true);
  });
});

describe('evaluate: gates, checklist and stage', () => {
  const release = releaseOf('high');
  const INVENTORY: GateDef = { id: 'inventory', stage: 'staging', checklist: [{ id: 'datasets-listed', evidence: 'required' }, { id: 'model-card' }] };
  const HIGH_ONLY: GateDef = { id: 'clinical', stage: 'staging', when: "release.risk in ['high']", checklist: [{ id: 'clinical-review' }] };

  function completion(gate: GateDef, itemId: string, opts: Partial<ChecklistCompletion> = {}): ChecklistCompletion {
    const item = gate.checklist!.find((i) => i.id === itemId)!;
    return {
      id: itemId,
      releaseDigest: release.digest,
      stage: gate.stage,
      gateId: gate.id,
      itemId,
      itemDigest: itemDigest(gate, item),
      by: 'bob',
      at: '2026-11-30T10:00:00Z',
      ...opts,
    };
  }

  it('names every missing requirement with how to provide it', () => {
    const d = evaluate(policyWith([INVENTORY]), release, evidence(), NOW, ctx({ stage: 'staging', history: [] }));
    expect(d.promotable).toBe(false);
    const reqs = d.gates[0]!.requirements;
    expect(reqs.map((r) => [r.id, r.outcome])).toEqual([
      ['datasets-listed', 'missing'],
      ['model-card', 'missing'],
    ]);
    expect(reqs[0]!.reason).toContain('tollgate check fraud-detector@2.4.0 datasets-listed --to staging --evidence');
  });

  it('requires evidence where the item says so, and goes stale when the item changes', () => {
    const ev = { name: 'datasets.md', digest: digestOf('x') };
    const p = policyWith([INVENTORY]);
    const c = ctx({ stage: 'staging', history: [] });
    expect(requirement(evaluate(p, release, evidence([], [completion(INVENTORY, 'datasets-listed')]), NOW, c), 'inventory', 'datasets-listed').outcome).toBe('missing');
    const done = evidence([], [completion(INVENTORY, 'datasets-listed', { evidence: ev }), completion(INVENTORY, 'model-card')]);
    expect(evaluate(p, release, done, NOW, c).promotable).toBe(true);
    const changed: GateDef = { ...INVENTORY, checklist: [{ id: 'datasets-listed', evidence: 'required', text: 'now with pipelines' }, { id: 'model-card' }] };
    expect(requirement(evaluate(policyWith([changed]), release, done, NOW, c), 'inventory', 'datasets-listed').outcome).toBe('stale');
  });

  it('applies a `when` gate only to high-risk releases', () => {
    const c = ctx({ stage: 'staging', history: [] });
    const high = evaluate(policyWith([HIGH_ONLY]), release, evidence(), NOW, c);
    expect(high.gates.map((g) => g.id)).toEqual(['clinical']);
    const low = releaseOf('low', '2.5.0');
    const lowD = evaluate(policyWith([HIGH_ONLY]), low, evidence(), NOW, c);
    expect(lowD.gates).toEqual([]);
    expect(lowD.notApplicable).toEqual(['clinical']);
    expect(lowD.promotable).toBe(true);
  });

  it('blocks a stage whose `after` stage the release has not been through', () => {
    const d = evaluate(policyWith([]), release, evidence(), NOW, ctx({ history: [] }));
    expect(d.promotable).toBe(false);
    expect(requirement(d, 'stage', 'order')).toMatchObject({ kind: 'stage', outcome: 'failed' });
    expect(requirement(d, 'stage', 'order').reason).toMatch(/not been promoted to staging/);
    expect(evaluate(policyWith([]), release, evidence(), NOW, ctx()).promotable).toBe(true);
  });

  it('blocks inside a freeze window and not outside it', () => {
    const stages = [{ name: 'staging' }, { name: 'production', freeze: ['2026-11-30T00:00:00Z/2026-12-01T00:00:00Z'] }];
    const inside = evaluate(policyWith([], stages), release, evidence(), NOW, ctx());
    expect(requirement(inside, 'stage', 'freeze').outcome).toBe('failed');
    expect(requirement(inside, 'stage', 'freeze').reason).toMatch(/frozen from 2026-11-30T00:00:00.000Z until 2026-12-01T00:00:00.000Z/);
    const after = evaluate(policyWith([], stages), release, evidence(), new Date('2026-12-01T00:00:00Z'), ctx());
    expect(after.promotable).toBe(true);
  });

  it('refuses an unknown stage', () => {
    expect(() => evaluate(policyWith([]), release, evidence(), NOW, ctx({ stage: 'prod' }))).toThrow(/unknown stage "prod"/);
  });
});

describe('matchSigners', () => {
  it.each([
    [[{ count: 1, signers: ['a', 'b'] }, { count: 1, signers: ['a'] }], [['b'], ['a']]],
    [[{ count: 2, signers: ['a'] }], [['a']]],
    [[{ count: 1, signers: ['a'] }, { count: 1, signers: ['a'] }], [['a'], []]],
    [[{ count: 2, signers: ['a', 'b', 'c'] }, { count: 1, signers: ['a', 'b'] }], [['a', 'c'], ['b']]],
  ])('fills as many places as possible, one per person: %j', (rules, expected) => {
    const got = matchSigners(rules);
    expect(got.map((g) => g.length)).toEqual(expected.map((e) => e.length));
    expect(new Set(got.flat()).size).toBe(got.flat().length);
  });
});

describe('evaluate: sign-offs and the evidence they saw', () => {
  const release = releaseOf('low');
  const gateOf = (staleOnNewEvidence?: boolean): GateDef => ({
    id: 'approvals',
    stage: 'production',
    signoffs: [{ role: 'ml-engineer', count: 1, ...(staleOnNewEvidence !== undefined ? { staleOnNewEvidence } : {}) }],
  });
  const done = (id: string, at: string): ChecklistCompletion => ({
    id,
    releaseDigest: release.digest,
    stage: 'production',
    gateId: 'readiness',
    itemId: 'runbook',
    itemDigest: digestOf('item'),
    by: 'alice',
    at,
  });
  const before: EvidenceSet = { checklist: [done('c1', '2026-11-30T09:00:00Z')], signoffs: [], validations: [] };
  const seen = evidenceSetDigest(before, release.digest, 'production');

  it('keeps counting a sign-off when evidence is recorded after it, by default', () => {
    const gate = gateOf();
    const s = signoff(release, gate, 'bob', 'ml-engineer', { evidenceDigest: seen });
    const later = { ...before, checklist: [...before.checklist, done('c2', '2026-11-30T11:00:00Z')], signoffs: [s] };
    expect(requirement(evaluate(policyWith([gate]), release, later, NOW, ctx()), 'approvals', 'signoff:ml-engineer').outcome).toBe('satisfied');
  });

  it('makes it stale under staleOnNewEvidence, and counts it while the evidence is what the signer saw', () => {
    const gate = gateOf(true);
    const s = signoff(release, gate, 'bob', 'ml-engineer', { evidenceDigest: seen });
    const same = evaluate(policyWith([gate]), release, { ...before, signoffs: [s] }, NOW, ctx());
    expect(requirement(same, 'approvals', 'signoff:ml-engineer').outcome).toBe('satisfied');
    const later = { ...before, checklist: [...before.checklist, done('c2', '2026-11-30T11:00:00Z')], signoffs: [s] };
    const r = requirement(evaluate(policyWith([gate]), release, later, NOW, ctx()), 'approvals', 'signoff:ml-engineer');
    expect(r.outcome).toBe('stale');
    expect(r.reason).toMatch(/evidence was recorded for production after bob signed/);
    expect(r.canProvide).toContain('bob');
  });

  it('treats a sign-off that recorded no evidence digest as stale under staleOnNewEvidence', () => {
    const gate = gateOf(true);
    const s = signoff(release, gate, 'bob', 'ml-engineer');
    expect(requirement(evaluate(policyWith([gate]), release, { ...before, signoffs: [s] }, NOW, ctx()), 'approvals', 'signoff:ml-engineer').outcome).toBe('stale');
  });

  it('covers only the stage the gate is for and the release itself', () => {
    const other = { ...done('x', '2026-11-30T11:00:00Z'), stage: 'staging' };
    const foreign = { ...done('y', '2026-11-30T11:00:00Z'), releaseDigest: digestOf('another') };
    expect(evidenceSetDigest({ ...before, checklist: [...before.checklist, other, foreign] }, release.digest, 'production')).toBe(seen);
  });
});

describe('waivers (accepted risk)', () => {
  const GATE: GateDef = {
    id: 'security-review',
    stage: 'production',
    checklist: [{ id: 'pen-test' }],
    signoffs: [{ role: 'security', count: 1 }],
    waivers: ['release-manager'],
  };
  const release = releaseOf();

  function waiver(over: Partial<ExceptionPayload> & { signWith?: (typeof USERS)[number] } = {}): ExceptionSignoff {
    const { signWith, ...rest } = over;
    const payload: ExceptionPayload = {
      type: 'tollgate/exception/v1',
      kind: 'waiver',
      release: 'fraud-detector@2.4.0',
      releaseDigest: release.digest,
      stage: 'production',
      role: 'release-manager',
      signer: 'dave',
      at: '2026-11-30T10:00:00.000Z',
      reason: 'known CVE, mitigated',
      gate: GATE.id,
      gateDigest: gateDigest(GATE),
      requirement: 'pen-test',
      expiresAt: '2026-12-07T10:00:00.000Z',
      ...rest,
    };
    const key = loadPrivateKey(KEYS[signWith ?? (payload.signer as 'dave')].privateKeyPem);
    return { ...payload, id: `w-${payload.signer}-${payload.requirement}`, signature: signException(payload, key) };
  }
  const withWaivers = (exceptions: ExceptionSignoff[]): EvidenceSet => ({ ...evidence([signoff(release, GATE, 'carol', 'security')]), exceptions });
  const decide = (ex: ExceptionSignoff[], now = NOW) => evaluate(policyWith([GATE]), release, withWaivers(ex), now, ctx());

  it('a counted waiver makes the requirement and its gate `waived` (never `satisfied`), and the release promotable', () => {
    const d = decide([waiver()]);
    const r = requirement(d, 'security-review', 'pen-test');
    expect(r.outcome).toBe('waived');
    expect(r.waiver).toEqual({ id: 'w-dave-pen-test', by: 'dave', role: 'release-manager', reason: 'known CVE, mitigated', at: '2026-11-30T10:00:00.000Z', expiresAt: '2026-12-07T10:00:00.000Z', outcome: 'missing' });
    expect(r.canProvide).toBeUndefined();
    expect(d.gates.find((g) => g.id === 'security-review')!.outcome).toBe('waived');
    expect(d.promotable).toBe(true);
  });

  it('without waivers nothing changes: the requirement is missing', () => {
    const d = decide([]);
    expect(requirement(d, 'security-review', 'pen-test').outcome).toBe('missing');
    expect(d.promotable).toBe(false);
  });

  it.each([
    ['expired', { expiresAt: '2026-11-30T12:00:00.000Z' }],
    ['given later than now', { at: '2026-11-30T12:00:01.000Z', expiresAt: '2026-12-01T00:00:00.000Z' }],
    ['by a role the gate does not name', { role: 'security', signer: 'carol' }],
    ['by someone who does not hold the role', { signer: 'bob' }],
    ['by the release owner', { signer: 'alice', role: 'ml-engineer' }],
    ['for another requirement', { requirement: 'signoff:security' }],
    ['for an earlier definition of the gate', { gateDigest: digestOf('old gate') }],
    ['for another release', { releaseDigest: digestOf('other') }],
    ['signed with another key', { signWith: 'mallory' as const }],
  ] as const)('a waiver %s does not count', (_why, over) => {
    expect(requirement(decide([waiver(over as Partial<ExceptionPayload>)]), 'security-review', 'pen-test').outcome).toBe('missing');
  });

  it("a standing rejection is not waived: a person said no", () => {
    const ex = [waiver({ requirement: 'signoff:security' })];
    const rejected = { ...evidence([signoff(release, GATE, 'carol', 'security', { decision: 'reject' })]), exceptions: ex };
    expect(requirement(evaluate(policyWith([GATE]), release, rejected, NOW, ctx()), 'security-review', 'signoff:security').outcome).toBe('failed');
    // A missing sign-off can be waived.
    const missing = { ...evidence([]), exceptions: ex };
    expect(requirement(evaluate(policyWith([GATE]), release, missing, NOW, ctx()), 'security-review', 'signoff:security').outcome).toBe('waived');
  });

  it('a gate without `waivers` ignores waivers', () => {
    const { waivers: _w, ...plain } = GATE;
    const d = evaluate(policyWith([plain]), release, { ...evidence([signoff(release, plain, 'carol', 'security')]), exceptions: [waiver({ gateDigest: gateDigest(plain) })] }, NOW, ctx());
    expect(requirement(d, 'security-review', 'pen-test').outcome).toBe('missing');
  });
});

describe('break-glass', () => {
  const STAGES: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging', freeze: ['2026-11-30T00:00:00Z/2026-12-01T00:00:00Z'], breakGlass: { role: 'security' } }];
  const policy = policyWith([APPROVALS], STAGES);
  const release = releaseOf();
  function glass(signer: (typeof USERS)[number], over: Partial<ExceptionPayload> = {}): ExceptionSignoff {
    const payload: ExceptionPayload = {
      type: 'tollgate/exception/v1',
      kind: 'break-glass',
      release: 'fraud-detector@2.4.0',
      releaseDigest: release.digest,
      stage: 'production',
      role: 'security',
      signer,
      at: '2026-11-30T11:00:00.000Z',
      reason: 'incident',
      ...over,
    };
    return { ...payload, id: `bg-${signer}`, signature: signException(payload, loadPrivateKey(KEYS[signer].privateKeyPem)) };
  }
  // Decided inside each test (not while the file is collected), so mutation testing can tell which
  // tests cover which code (a decision made at collection covers everything, for every test).
  const frozen = () => evaluate(policy, release, evidence(), NOW, ctx());

  it('the frozen, unapproved release is not promotable', () => {
    expect(frozen().promotable).toBe(false);
    expect(requirement(frozen(), 'stage', 'freeze').outcome).toBe('failed');
  });

  it("counts a break-glass by the stage's role, listing what it goes past", () => {
    const found = breakGlassFor(policy, release, frozen(), [glass('carol')], ctx().history, 'dave', NOW);
    expect(found).toMatchObject({ ok: true, signoff: { id: 'bg-carol' } });
    expect(found.ok && found.unmet).toEqual(['stage/freeze failed', 'approvals/signoff:ml-engineer missing', 'approvals/signoff:security missing']);
  });

  it.each<[string, ExceptionSignoff[], string, string]>([
    ['none', [], 'needs a sign-off by the role "security"', 'dave'],
    ['by the promoter', [glass('carol')], "carol's is by the person promoting", 'carol'],
    ['more than 24h old', [glass('carol', { at: '2026-11-29T11:00:00.000Z' })], 'more than 24h old', 'dave'],
    ['for another stage', [glass('carol', { stage: 'staging' })], 'needs a sign-off', 'dave'],
    ['in another role', [glass('erin', { role: 'ml-engineer' })], "erin's is not by a holder of security", 'dave'],
  ])('refuses a break-glass: %s', (_why, ex, message, promoter) => {
    const found = breakGlassFor(policy, release, frozen(), ex, ctx().history, promoter, NOW);
    expect(found.ok).toBe(false);
    expect(!found.ok && found.reason).toContain(message);
  });

  it('a sign-off used by an earlier promotion does not count again', () => {
    const used: Promotion = { ...ctx().history[0]!, id: 'p2', stage: 'production', breakGlass: { reason: 'x', signoff: 'bg-carol', signer: 'carol', role: 'security', unmet: [] } };
    const found = breakGlassFor(policy, release, frozen(), [glass('carol')], [...ctx().history, used], 'dave', NOW);
    expect(!found.ok && found.reason).toContain('used by an earlier promotion');
  });

  it('never goes past a rollback hold, and not without a break-glass role on the stage', () => {
    const held = { ...frozen(), gates: [{ id: 'stage', outcome: 'failed' as const, requirements: [{ id: 'hold', kind: 'stage' as const, outcome: 'failed' as const, reason: 'held' }] }] };
    const found = breakGlassFor(policy, release, held, [glass('carol')], ctx().history, 'dave', NOW);
    expect(!found.ok && found.reason).toContain('does not go past stage/hold');
    const plain = policyWith([APPROVALS]);
    expect(breakGlassFor(plain, release, frozen(), [glass('carol')], ctx().history, 'dave', NOW).ok).toBe(false);
  });
});
