import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { generateKeyPair } from './keys.js';
import type { EvidenceSet, Policy, Promotion, Release, ValidationResult } from './model.js';
import { validationDigest } from './policy.js';
import { unmetPreconditions } from './preconditions.js';

const POLICY: Policy = {
  apiVersion: 'tollgate/v1',
  kind: 'Policy',
  name: 'p',
  roster: { alice: { roles: ['ml-engineer'], key: generateKeyPair().publicKey }, mia: { roles: ['model-risk'], key: generateKeyPair().publicKey } },
  stages: [{ name: 'staging' }, { name: 'production', after: 'staging' }],
  gates: [
    { id: 'automated', stage: 'staging', validations: [{ id: 'tests', uses: 'junit' }] },
    { id: 'extra', stage: 'staging', when: "release.risk == 'critical'", validations: [{ id: 'fuzz', uses: 'junit' }] },
    { id: 'approvals', stage: 'production', signoffs: [{ role: 'model-risk', count: 1, after: ['automated', 'extra'], inStage: 'staging' }] },
  ],
};
const RULE = POLICY.gates[2]!.signoffs![0]!;
const manifest = { subject: 'fd', version: '1.0.0', risk: 'high' as const, owner: 'alice', artifacts: [] };
const RELEASE: Release = { subject: 'fd', version: '1.0.0', digest: digestOf(manifest), manifest, createdAt: '2026-11-01T00:00:00Z', createdBy: 'alice' };
const NOW = new Date('2026-11-30T12:00:00Z');

function result(status: ValidationResult['status']): ValidationResult {
  const gate = POLICY.gates[0]!;
  return {
    id: `r-${status}`,
    releaseDigest: RELEASE.digest,
    stage: 'staging',
    gateId: 'automated',
    validationId: 'tests',
    validator: 'junit',
    validatorVersion: '1',
    definitionDigest: validationDigest(gate, gate.validations![0]!),
    status,
    summary: `12 tests ${status}`,
    measurements: {},
    thresholds: {},
    inputs: {},
    durationMs: 1,
    by: 'ci',
    at: '2026-11-30T11:00:00Z',
  };
}
const promotion = (stage: string, digest = RELEASE.digest, version = '1.0.0'): Promotion => ({
  id: `p-${stage}-${version}`,
  subject: 'fd',
  stage,
  version,
  releaseDigest: digest,
  policyVersion: 1,
  policyDigest: digestOf('p'),
  kind: 'promotion',
  by: 'dave',
  at: '2026-11-30T11:30:00Z',
});
const ev = (validations: ValidationResult[]): EvidenceSet => ({ checklist: [], signoffs: [], validations });
const unmet = (evidence: EvidenceSet, history: Promotion[]) => unmetPreconditions(POLICY, RELEASE, evidence, NOW, { policyDigest: digestOf('p'), history }, RULE);

describe('unmetPreconditions', () => {
  it('is empty when the named gates are satisfied and the release holds the stage (a gate that does not apply waits for nothing)', () => {
    expect(unmet(ev([result('passed')]), [promotion('staging')])).toEqual([]);
  });

  it('names a gate that is not satisfied, with what it lacks', () => {
    expect(unmet(ev([result('failed')]), [promotion('staging')])).toEqual(['gate automated (staging) is not satisfied yet: tests failed']);
    expect(unmet(ev([]), [promotion('staging')])).toEqual(['gate automated (staging) is not satisfied yet: tests missing']);
  });

  it('names the stage the release does not hold, and who holds it', () => {
    expect(unmet(ev([result('passed')]), [])).toEqual(['fd@1.0.0 does not hold staging (no release does); promote it there first']);
    expect(unmet(ev([result('passed')]), [promotion('staging'), promotion('staging', digestOf('other'), '1.1.0')])).toEqual([
      'fd@1.0.0 does not hold staging (fd@1.1.0 does); promote it there first',
    ]);
  });
});

describe('unmetPreconditions: every clause', () => {
  it('names a gate the policy does not have, and lists only the open requirements of one that is not satisfied', () => {
    const gates = [
      { id: 'automated', stage: 'staging', validations: [{ id: 'tests', uses: 'junit' }, { id: 'lint', uses: 'junit' }], checklist: [{ id: 'runbook' }] },
      POLICY.gates[2]!,
    ];
    const policy: Policy = { ...POLICY, gates };
    const rule = { role: 'model-risk', count: 1, after: ['automated', 'gone'] };
    const passed = { ...result('passed'), definitionDigest: validationDigest(gates[0]!, gates[0]!.validations![0]!) };
    expect(unmetPreconditions(policy, RELEASE, ev([passed]), NOW, { policyDigest: digestOf('p'), history: [], policyVersion: 3 }, rule)).toEqual([
      'gate automated (staging) is not satisfied yet: runbook missing, lint missing',
      'gate gone is not in the policy',
    ]);
  });

  it('reads who holds the stage it names, whatever other stages hold', () => {
    expect(unmet(ev([result('passed')]), [promotion('staging'), promotion('production', digestOf('other'), '0.9.0')])).toEqual([]);
  });

  it('a rule without preconditions has none unmet', () => {
    expect(unmetPreconditions(POLICY, RELEASE, ev([]), NOW, { policyDigest: digestOf('p'), history: [] }, { role: 'model-risk', count: 1 })).toEqual([]);
  });
});
