/**
 * The tests issue 13 found missing: hand-made mutations of the decision code that no test caught.
 * Each test here names the mutation it catches.
 * - Stage order with another version of the subject already in the earlier stage (dropping the
 *   release digest comparison from the `after` check let B go straight to production after A held staging).
 * - `when` on a checklist item and on a validation (ignoring it passed every test).
 * - Boundaries: a sign-off exactly `expires` old still counts and 1 ms older does not, in agreement
 *   with decisionHorizon; evaluating at exactly a freeze window's start blocks, and at its end does not.
 */
import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { evaluate, type EvaluateContext } from './evaluate.js';
import { decisionHorizon } from './horizon.js';
import { generateKeyPair, loadPrivateKey } from './keys.js';
import { gateDigest, itemDigest, validationDigest } from './policy.js';
import { signSignoff } from './signoff.js';
import type { EvidenceSet, GateDef, Policy, Promotion, Release, RiskTier, Signoff, SignoffPayload, ValidationResult } from './model.js';

const BOB = generateKeyPair();
const POLICY_DIGEST = digestOf('policy');

function policyWith(gates: GateDef[], stages: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging' }]): Policy {
  return { apiVersion: 'tollgate/v1', kind: 'Policy', name: 'boundaries', roster: { bob: { roles: ['ml-engineer'], key: BOB.publicKey } }, stages, gates };
}

function releaseOf(version: string, risk: RiskTier = 'high'): Release {
  const manifest = { subject: 'scorer', version, risk, owner: 'alice', artifacts: [{ name: 'model', kind: 'model' as const, sha256: version.replaceAll('.', '').padEnd(64, 'a') }] };
  return { subject: 'scorer', version, digest: digestOf(manifest), manifest, createdAt: '2026-11-01T00:00:00Z', createdBy: 'alice' };
}

function promotion(release: Release, stage: string, at: string, id = `${release.version}-${stage}`): Promotion {
  return { id, subject: 'scorer', stage, version: release.version, releaseDigest: release.digest, policyVersion: 1, policyDigest: POLICY_DIGEST, kind: 'promotion', by: 'dave', at };
}

const NONE: EvidenceSet = { checklist: [], signoffs: [], validations: [] };
const ctx = (stage: string, history: Promotion[]): EvaluateContext => ({ stage, policyDigest: POLICY_DIGEST, history, promoter: 'dave' });
const req = (d: ReturnType<typeof evaluate>, gate: string, id: string) => d.gates.find((g) => g.id === gate)?.requirements.find((r) => r.id === id);

describe('stage order with another version of the subject already in the earlier stage', () => {
  const policy = policyWith([]);
  const a = releaseOf('1.0.0');
  const b = releaseOf('1.1.0');
  const now = new Date('2026-12-01T12:00:00Z');

  it('refuses B for production while only A went through staging (catches: dropping the release digest from the `after` check)', () => {
    const d = evaluate(policy, b, NONE, now, ctx('production', [promotion(a, 'staging', '2026-12-01T09:00:00Z')]));
    expect(d.promotable).toBe(false);
    expect(req(d, 'stage', 'order')).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/scorer@1\.1\.0 has not been promoted to staging/) });
  });

  it('allows A, which did go through staging, from the same history', () => {
    const d = evaluate(policy, a, NONE, now, ctx('production', [promotion(a, 'staging', '2026-12-01T09:00:00Z')]));
    expect(req(d, 'stage', 'order')?.outcome).toBe('satisfied');
    expect(d.promotable).toBe(true);
  });
});

describe('`when` on a checklist item and on a validation', () => {
  const gate: GateDef = {
    id: 'ready',
    stage: 'staging',
    checklist: [{ id: 'bias-review', when: "release.risk in ['high', 'critical']" }, { id: 'runbook' }],
    validations: [{ id: 'fairness', uses: 'slices', with: {}, when: "release.risk == 'critical'" }],
  };
  const policy = policyWith([gate]);
  const now = new Date('2026-12-01T12:00:00Z');

  it.each([
    ['low', ['runbook']],
    ['high', ['bias-review', 'runbook']],
    ['critical', ['bias-review', 'runbook', 'fairness']],
  ] as const)('a %s-risk release is asked for %j (catches: ignoring `when`)', (risk, ids) => {
    const d = evaluate(policy, releaseOf('2.0.0', risk), NONE, now, ctx('staging', []));
    expect(d.gates.find((g) => g.id === 'ready')!.requirements.map((r) => r.id)).toEqual(ids);
  });

  it('a validation that does not apply is not needed: a low-risk release passes with the runbook done', () => {
    const release = releaseOf('2.0.0', 'low');
    const evidence: EvidenceSet = {
      ...NONE,
      checklist: [{ id: 'c1', releaseDigest: release.digest, stage: 'staging', gateId: 'ready', itemId: 'runbook', itemDigest: itemDigestOf(gate, 'runbook'), by: 'alice', at: '2026-12-01T10:00:00Z' }],
    };
    expect(evaluate(policy, release, evidence, now, ctx('staging', [])).promotable).toBe(true);
  });

  it('a critical release needs the fairness result, and a passed one satisfies it', () => {
    const release = releaseOf('2.0.0', 'critical');
    const result: ValidationResult = {
      id: 'v1',
      releaseDigest: release.digest,
      stage: 'staging',
      gateId: 'ready',
      validationId: 'fairness',
      validator: 'slices',
      validatorVersion: '1',
      definitionDigest: validationDigest(gate, gate.validations![0]!),
      status: 'passed',
      summary: 'ok',
      measurements: {},
      thresholds: {},
      inputs: {},
      durationMs: 1,
      by: 'ci',
      at: '2026-12-01T10:00:00Z',
    };
    expect(req(evaluate(policy, release, NONE, now, ctx('staging', [])), 'ready', 'fairness')?.outcome).toBe('missing');
    expect(req(evaluate(policy, release, { ...NONE, validations: [result] }, now, ctx('staging', [])), 'ready', 'fairness')?.outcome).toBe('satisfied');
  });
});

function itemDigestOf(gate: GateDef, id: string) {
  return itemDigest(gate, gate.checklist!.find((i) => i.id === id)!);
}

describe('boundaries: sign-off expiry and freeze windows', () => {
  const gate: GateDef = { id: 'approvals', stage: 'staging', expires: '24h', signoffs: [{ role: 'ml-engineer', count: 1 }] };
  const policy = policyWith([gate]);
  const release = releaseOf('3.0.0');
  const at = '2026-12-01T00:00:00.000Z';
  const payload: SignoffPayload = {
    type: 'tollgate/signoff/v1',
    release: 'scorer@3.0.0',
    releaseDigest: release.digest,
    stage: 'staging',
    gate: 'approvals',
    gateDigest: gateDigest(gate),
    role: 'ml-engineer',
    decision: 'approve',
    signer: 'bob',
    at,
  };
  const signoff: Signoff = { ...payload, id: 's1', signature: signSignoff(payload, loadPrivateKey(BOB.privateKeyPem)) };
  const evidence: EvidenceSet = { ...NONE, signoffs: [signoff] };
  const exactly = Date.parse(at) + 24 * 3_600_000;

  it('counts a sign-off exactly `expires` old, and not 1 ms older (catches: > turned into >=, or the reverse)', () => {
    expect(req(evaluate(policy, release, evidence, new Date(exactly), ctx('staging', [])), 'approvals', 'signoff:ml-engineer')?.outcome).toBe('satisfied');
    expect(req(evaluate(policy, release, evidence, new Date(exactly + 1), ctx('staging', [])), 'approvals', 'signoff:ml-engineer')?.outcome).toBe('expired');
  });

  it('agrees with decisionHorizon: the horizon is the first millisecond at which the decision changes', () => {
    const before = new Date(exactly - 5_000);
    const horizon = decisionHorizon(policy, evidence, 'staging', before);
    expect(horizon).toBe(exactly + 1);
    expect(evaluate(policy, release, evidence, new Date(horizon - 1), ctx('staging', [])).promotable).toBe(true);
    expect(evaluate(policy, release, evidence, new Date(horizon), ctx('staging', [])).promotable).toBe(false);
  });

  it('blocks at exactly a freeze window\'s start, and not at its end (a window is [start, end))', () => {
    const frozen = policyWith([], [{ name: 'staging', freeze: ['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z'] }]);
    const decide = (t: string) => evaluate(frozen, release, NONE, new Date(t), ctx('staging', []));
    expect(req(decide('2026-12-23T23:59:59.999Z'), 'stage', 'freeze')?.outcome).toBe('satisfied');
    expect(req(decide('2026-12-24T00:00:00.000Z'), 'stage', 'freeze')?.outcome).toBe('failed');
    expect(req(decide('2026-12-26T23:59:59.999Z'), 'stage', 'freeze')?.outcome).toBe('failed');
    expect(req(decide('2026-12-27T00:00:00.000Z'), 'stage', 'freeze')?.outcome).toBe('satisfied');
    expect(decisionHorizon(frozen, NONE, 'staging', new Date('2026-12-23T12:00:00Z'))).toBe(Date.parse('2026-12-24T00:00:00Z'));
  });
});
