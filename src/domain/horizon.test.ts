/**
 * decisionHorizon: the first moment after `now` at which time alone changes a decision. A horizon
 * too late serves a stale cached decision (a freeze that opened, a sign-off that expired); each
 * source of change is checked alone, with the ones that must not count beside it.
 */
import { describe, expect, it } from 'vitest';
import { digestOf } from './digest.js';
import { decisionHorizon } from './horizon.js';
import type { EvidenceSet, ExceptionSignoff, GateDef, Policy, Promotion, Signoff } from './model.js';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const T = NOW.getTime();
const H = 3_600_000;
const NONE: EvidenceSet = { checklist: [], signoffs: [], validations: [] };

function policyOf(stages: Policy['stages'], gates: GateDef[] = []): Policy {
  return { apiVersion: 'tollgate/v1', kind: 'Policy', name: 'h', roster: {}, stages, gates };
}
const signoff = (over: Partial<Signoff>): Signoff =>
  ({ id: 's', release: 'r@1', releaseDigest: digestOf('r'), stage: 'production', gate: 'approvals', gateDigest: digestOf('g'), role: 'r', decision: 'approve', signer: 'bob', at: '2026-11-30T10:00:00.000Z', signature: 'x', ...over }) as Signoff;
const waiver = (over: Partial<ExceptionSignoff>): ExceptionSignoff =>
  ({ id: 'w', type: 'tollgate/exception/v1', kind: 'waiver', release: 'r@1', releaseDigest: digestOf('r'), stage: 'production', role: 'rm', signer: 'dave', at: '2026-11-30T10:00:00.000Z', reason: 'x', expiresAt: '2026-12-01T00:00:00.000Z', signature: 'x', ...over }) as ExceptionSignoff;
const promotion = (stage: string, at: string, releaseDigest = digestOf('r')): Promotion => ({
  id: `p-${stage}-${at}`,
  subject: 'r',
  stage,
  version: '1',
  releaseDigest,
  policyVersion: 1,
  policyDigest: digestOf('p'),
  kind: 'promotion',
  by: 'dave',
  at,
});

describe('decisionHorizon', () => {
  it('is Infinity when nothing is coming', () => {
    expect(decisionHorizon(policyOf([{ name: 'production' }]), NONE, 'production', NOW)).toBe(Infinity);
    expect(decisionHorizon(policyOf([{ name: 'production' }]), NONE, 'unknown', NOW)).toBe(Infinity);
  });

  it('a freeze window of the stage: its next opening or closing after now, not one of another stage', () => {
    const stages: Policy['stages'] = [
      { name: 'staging', freeze: ['2026-11-30T12:30:00Z/2026-11-30T13:00:00Z'] },
      { name: 'production', freeze: ['2026-11-30T11:00:00Z/2026-11-30T14:00:00Z', '2026-11-30T15:00:00Z/2026-11-30T16:00:00Z'] },
    ];
    expect(decisionHorizon(policyOf(stages), NONE, 'production', NOW)).toBe(Date.parse('2026-11-30T14:00:00Z'));
    expect(decisionHorizon(policyOf(stages), NONE, 'staging', NOW)).toBe(Date.parse('2026-11-30T12:30:00Z'));
  });

  it('a sign-off of a gate with `expires`: the millisecond after at + expires, for that stage and gate only', () => {
    const gates: GateDef[] = [
      { id: 'approvals', stage: 'production', expires: '4h', signoffs: [{ role: 'r', count: 1 }] },
      { id: 'other', stage: 'production', signoffs: [{ role: 'r', count: 1 }] },
      { id: 'staged', stage: 'staging', expires: '1h', signoffs: [{ role: 'r', count: 1 }] },
    ];
    const p = policyOf([{ name: 'staging' }, { name: 'production' }], gates);
    const at = (s: Signoff[]) => decisionHorizon(p, { ...NONE, signoffs: s }, 'production', NOW);
    expect(at([signoff({})])).toBe(Date.parse('2026-11-30T14:00:00.001Z'));
    // Already expired: no change to come from it.
    expect(at([signoff({ at: '2026-11-30T07:59:59.999Z' })])).toBe(Infinity);
    // Expiring exactly one millisecond from now.
    expect(at([signoff({ at: new Date(T - 4 * H).toISOString() })])).toBe(T + 1);
    expect(at([signoff({ at: new Date(T - 4 * H - 1).toISOString() })])).toBe(Infinity);
    // Another gate (no `expires`), another stage, a time that is not UTC: none counts.
    expect(at([signoff({ gate: 'other' }), signoff({ stage: 'staging' }), signoff({ at: '2026-11-30T10:00:00+01:00' })])).toBe(Infinity);
    // The earliest of several.
    expect(at([signoff({ at: '2026-11-30T11:00:00.000Z' }), signoff({ at: '2026-11-30T09:00:00.000Z' }), signoff({ at: '2026-11-30T10:00:00.000Z' })])).toBe(Date.parse('2026-11-30T13:00:00.001Z'));
  });

  it('a waiver of the stage: its expiry', () => {
    const p = policyOf([{ name: 'production' }]);
    const at = (w: ExceptionSignoff[]) => decisionHorizon(p, { ...NONE, exceptions: w }, 'production', NOW);
    expect(at([waiver({})])).toBe(Date.parse('2026-12-01T00:00:00.000Z'));
    expect(at([waiver({ kind: 'break-glass' }), waiver({ stage: 'staging' }), waiver({ expiresAt: undefined }), waiver({ expiresAt: '2026-11-30T12:00:00.000Z' })])).toBe(Infinity);
  });

  it('a soak still running: the moment a stay of this release in `after` reaches it', () => {
    const stages: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging', soak: '24h' }];
    const p = policyOf(stages);
    // Another release in staging, and this release in another stage, earlier: neither is this release's soak.
    const history = [promotion('staging', '2026-11-29T20:00:00.000Z', digestOf('other')), promotion('canary', '2026-11-29T21:00:00.000Z'), promotion('staging', '2026-11-30T00:00:00.000Z')];
    expect(decisionHorizon(p, NONE, 'production', NOW, { history, releaseDigest: digestOf('r') })).toBe(Date.parse('2026-12-01T00:00:00.000Z'));
    // Without the history, or for a stage without a soak, nothing.
    expect(decisionHorizon(p, NONE, 'production', NOW)).toBe(Infinity);
    expect(decisionHorizon(policyOf([{ name: 'staging' }, { name: 'production', after: 'staging' }]), NONE, 'production', NOW, { history, releaseDigest: digestOf('r') })).toBe(Infinity);
  });

  it('the earliest of all sources', () => {
    const stages: Policy['stages'] = [{ name: 'staging' }, { name: 'production', after: 'staging', soak: '1h', freeze: ['2026-11-30T15:00:00Z/2026-11-30T16:00:00Z'] }];
    const gates: GateDef[] = [{ id: 'approvals', stage: 'production', expires: '3h', signoffs: [{ role: 'r', count: 1 }] }];
    const p = policyOf(stages, gates);
    const ev = { ...NONE, signoffs: [signoff({})], exceptions: [waiver({ expiresAt: '2026-11-30T14:30:00.000Z' })] };
    const soak = { history: [promotion('staging', '2026-11-30T11:30:00.000Z')], releaseDigest: digestOf('r') };
    expect(decisionHorizon(p, ev, 'production', NOW, soak)).toBe(Date.parse('2026-11-30T12:30:00.000Z'));
    expect(decisionHorizon(p, ev, 'production', NOW)).toBe(Date.parse('2026-11-30T13:00:00.001Z'));
  });
});
