/** Stage-level requirements that come from the record and the time: rollback holds, order after a rollback, soak. */
import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { evaluate, stagePath, type EvaluateContext } from './evaluate.js';
import { decisionHorizon } from './horizon.js';
import type { Policy, Promotion, Release, StageDef, StageHold } from './model.js';

const STAGES: StageDef[] = [{ name: 'staging' }, { name: 'canary', after: 'staging', soak: '24h' }, { name: 'production', after: 'canary' }];
const policy: Policy = { apiVersion: 'tollgate/v1', kind: 'Policy', name: 't', roster: { dave: { roles: ['release-manager'], key: 'k' } }, stages: STAGES, gates: [] };

function rel(version: string): Release {
  const manifest = { subject: 's', version, risk: 'low' as const, owner: 'alice', artifacts: [{ name: 'm', kind: 'model' as const, sha256: 'a'.repeat(64) }] };
  return { subject: 's', version, digest: digestOf(manifest), manifest, createdAt: '2026-01-01T00:00:00Z', createdBy: 'alice' };
}
const A = rel('1.0.0');
const B = rel('2.0.0');

function move(id: string, r: Release, stage: string, at: string, kind: Promotion['kind'] = 'promotion'): Promotion {
  return { id, subject: 's', stage, version: r.version, releaseDigest: r.digest, policyVersion: 1, policyDigest: digestOf('p'), kind, by: 'dave', at };
}
function hold(id: string, r: Release, stage: string, promotionId: string, at: string, cleared?: StageHold['cleared']): StageHold {
  return { id, subject: 's', stage, version: r.version, releaseDigest: r.digest, promotionId, by: 'dave', at, reason: 'bad', ...(cleared ? { cleared } : {}) };
}
function stageReqs(r: Release, stage: string, now: string, c: Partial<EvaluateContext>) {
  const d = evaluate(policy, r, { checklist: [], signoffs: [], validations: [] }, new Date(now), { stage, policyDigest: digestOf('p'), history: [], ...c });
  return Object.fromEntries((d.gates.find((g) => g.id === 'stage')?.requirements ?? []).map((x) => [x.id, x]));
}

describe('soak', () => {
  const history = [move('p1', A, 'staging', '2026-03-01T06:00:00Z')];

  it.each([
    // now, outcome, allowedAt
    ['2026-03-02T05:59:59Z', 'missing', '2026-03-02T06:00:00.000Z'],
    ['2026-03-02T06:00:00Z', 'satisfied', undefined],
    ['2026-03-09T00:00:00Z', 'satisfied', undefined],
  ] as const)('in staging since 06:00, at %s: %s', (now, outcome, allowedAt) => {
    const soak = stageReqs(A, 'canary', now, { history })['soak']!;
    expect(soak.outcome).toBe(outcome);
    expect(soak.allowedAt).toBe(allowedAt);
    // Production names no soak.
    expect(stageReqs(A, 'production', now, { history })['soak']).toBeUndefined();
  });

  it('counts from the promotion into the stage before, and says when it will be allowed', () => {
    const h = [move('p1', A, 'staging', '2026-03-01T00:00:00Z')];
    const early = stageReqs(A, 'canary', '2026-03-01T18:00:00Z', { history: h })['soak']!;
    expect(early).toMatchObject({ outcome: 'missing', allowedAt: '2026-03-02T00:00:00.000Z' });
    expect(early.reason).toBe('s@1.0.0 has held staging for 18h of the 24h soak; it may enter canary from 2026-03-02T00:00:00.000Z');
    expect(stageReqs(A, 'canary', '2026-03-02T00:00:00Z', { history: h })['soak']).toMatchObject({ outcome: 'satisfied' });
  });

  it('a release replaced in the stage before its soak ended fails until promoted there again; one replaced after it still passes', () => {
    const short = [move('p1', A, 'staging', '2026-03-01T00:00:00Z'), move('p2', B, 'staging', '2026-03-01T10:00:00Z')];
    const r = stageReqs(A, 'canary', '2026-03-05T00:00:00Z', { history: short })['soak']!;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toContain('left staging after 10h, before the 24h soak was over');
    const long = [move('p1', A, 'staging', '2026-03-01T00:00:00Z'), move('p2', B, 'staging', '2026-03-02T10:00:00Z')];
    expect(stageReqs(A, 'canary', '2026-03-05T00:00:00Z', { history: long })['soak']!.outcome).toBe('satisfied');
  });

  it('a stay that was rolled back does not count', () => {
    const h = [move('p1', A, 'staging', '2026-03-01T00:00:00Z')];
    const r = stageReqs(A, 'canary', '2026-03-05T00:00:00Z', { history: h, holds: [hold('rb', A, 'staging', 'p1', '2026-03-03T00:00:00Z', { by: 'dave', at: '2026-03-04T00:00:00Z', reason: 'ok' })] });
    expect(r['soak']!.outcome).toBe('failed');
    expect(r['order']!.outcome).toBe('failed');
  });

  it('the horizon is the moment the soak is met, so a cached decision expires then', () => {
    const h = [move('p1', A, 'staging', '2026-03-01T00:00:00Z')];
    const none = { checklist: [], signoffs: [], validations: [] };
    expect(decisionHorizon(policy, none, 'canary', new Date('2026-03-01T18:00:00Z'), { history: h, releaseDigest: A.digest })).toBe(Date.parse('2026-03-02T00:00:00Z'));
    expect(decisionHorizon(policy, none, 'canary', new Date('2026-03-02T18:00:00Z'), { history: h, releaseDigest: A.digest })).toBe(Infinity);
    expect(decisionHorizon(policy, none, 'production', new Date('2026-03-01T18:00:00Z'), { history: h, releaseDigest: A.digest })).toBe(Infinity);
  });
});

describe('rollback holds', () => {
  const history = [move('p1', A, 'staging', '2026-03-01T00:00:00Z'), move('p2', B, 'staging', '2026-03-02T00:00:00Z'), move('p3', A, 'staging', '2026-03-03T00:00:00Z', 'rollback')];

  it('the path of a stage follows `after` back', () => {
    expect(stagePath(policy, 'production')).toEqual(['production', 'canary', 'staging']);
    expect(stagePath(policy, 'staging')).toEqual(['staging']);
  });

  it('holds the release out of the stage and every stage after it, until cleared', () => {
    const holds = [hold('p3', B, 'staging', 'p2', '2026-03-03T00:00:00Z')];
    for (const stage of ['staging', 'canary', 'production']) {
      expect(stageReqs(B, stage, '2026-03-04T00:00:00Z', { history, holds })['hold']).toMatchObject({ outcome: 'failed' });
    }
    // Another release is not held.
    expect(stageReqs(A, 'canary', '2026-03-04T00:00:00Z', { history, holds })['hold']).toBeUndefined();
    const cleared = [hold('p3', B, 'staging', 'p2', '2026-03-03T00:00:00Z', { by: 'dave', at: '2026-03-03T12:00:00Z', reason: 'fixed' })];
    const r = stageReqs(B, 'staging', '2026-03-04T00:00:00Z', { history, holds: cleared });
    expect(r['hold']).toMatchObject({ outcome: 'satisfied' });
    expect(r['hold']!.reason).toContain('cleared by dave at 2026-03-03T12:00:00Z ("fixed")');
  });

  it('a hold on a later stage does not hold the release out of an earlier one', () => {
    const holds = [hold('x', A, 'production', 'p9', '2026-03-03T00:00:00Z')];
    expect(stageReqs(A, 'canary', '2026-03-04T00:00:00Z', { history, holds })['hold']).toBeUndefined();
    expect(stageReqs(A, 'production', '2026-03-04T00:00:00Z', { history, holds })['hold']).toMatchObject({ outcome: 'failed' });
  });
});
