// The use cases over a real SQLite store, with a clock the test moves: expiry, staleness after a
// policy change, promotion re-checked in its transaction, rollbacks, and nothing half-written.
import { describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import { TollgateError } from '../src/domain/errors.js';
import { signSignoff } from '../src/domain/signoff.js';
import type { ReleaseManifest } from '../src/domain/model.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { completeItem } from '../src/service/check.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { promote } from '../src/service/promote.js';
import { rollback } from '../src/service/rollback.js';
import { draftSignoffs, recordSignoffs } from '../src/service/signoff.js';
import { decide } from '../src/service/status.js';
import { verifyAudit } from '../src/service/verify-audit.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';

const USERS = ['alice', 'bob', 'carol', 'dave'] as const;
type User = (typeof USERS)[number];
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<User, ReturnType<typeof generateKeyPair>>;

function policyYaml(opts: { expires?: string; otherItems?: string[] } = {}): string {
  return `apiVersion: tollgate/v1
kind: Policy
name: svc
roster:
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  bob: { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
  carol: { roles: [security], key: "${KEYS.carol.publicKey}" }
  dave: { roles: [release-manager, admin], key: "${KEYS.dave.publicKey}" }
stages:
  - name: staging
gates:
  - id: approvals
    stage: staging
    separationOfDuties: true
    expires: ${opts.expires ?? '168h'}
    signoffs:
      - { role: ml-engineer, count: 1 }
  - id: readiness
    stage: staging
    checklist:
${(opts.otherItems ?? ['alerts-tested']).map((id) => `      - { id: ${id} }\n`).join('')}`;
}

function manifest(version: string): ReleaseManifest {
  return { subject: 'fraud-detector', version, risk: 'medium', owner: 'alice', artifacts: [{ name: 'model', kind: 'model', sha256: version.padEnd(64, '0').replace(/\./g, '0') }] };
}

async function setup() {
  let now = new Date('2026-11-30T12:00:00Z');
  const store = await createSqliteStore(':memory:');
  const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => now };
  await applyPolicy(deps, 'dave', policyYaml(), 'tollgate.yaml');
  const sign = async (user: User, ref: string, decision: 'approve' | 'reject' = 'approve') => {
    const draft = await draftSignoffs(store, user, { release: ref, stage: 'staging', role: user === 'carol' ? 'security' : 'ml-engineer', decision }, now);
    return recordSignoffs(deps, user, draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS[user].privateKeyPem)) })));
  };
  const ready = async (ref: string) => {
    await completeItem(deps, 'dave', { release: ref, stage: 'staging', item: 'alerts-tested' });
    await sign('bob', ref);
  };
  return { deps, store, sign, ready, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const outcomeOf = (d: Awaited<ReturnType<typeof decide>>, gate: string, id: string) =>
  d.gates.find((g) => g.id === gate)?.requirements.find((r) => r.id === id)?.outcome;

describe('service over SQLite', () => {
  it('expires a sign-off after the gate\'s `expires`, as the clock moves', async () => {
    const t = await setup();
    await createRelease(t.deps, 'alice', manifest('1.0.0'));
    await t.ready('fraud-detector@1.0.0');
    expect((await decide(t.store, 'fraud-detector@1.0.0', 'staging', t.deps.now(), 'dave')).promotable).toBe(true);
    t.advance(169 * 3600 * 1000);
    const later = await decide(t.store, 'fraud-detector@1.0.0', 'staging', t.deps.now(), 'dave');
    expect(outcomeOf(later, 'approvals', 'signoff:ml-engineer')).toBe('expired');
    await expect(promote(t.deps, 'dave', 'fraud-detector@1.0.0', 'staging')).rejects.toMatchObject({ code: 'TG_PROMOTION_BLOCKED' });
  });

  it('makes sign-offs stale when their gate changes, and not when another gate does', async () => {
    const t = await setup();
    await createRelease(t.deps, 'alice', manifest('1.0.0'));
    await t.ready('fraud-detector@1.0.0');
    await applyPolicy(t.deps, 'dave', policyYaml({ otherItems: ['alerts-tested', 'runbook'] }), 'tollgate.yaml');
    const other = await decide(t.store, 'fraud-detector@1.0.0', 'staging', t.deps.now());
    expect(outcomeOf(other, 'approvals', 'signoff:ml-engineer')).toBe('satisfied');
    await applyPolicy(t.deps, 'dave', policyYaml({ expires: '72h' }), 'tollgate.yaml');
    const own = await decide(t.store, 'fraud-detector@1.0.0', 'staging', t.deps.now());
    expect(outcomeOf(own, 'approvals', 'signoff:ml-engineer')).toBe('stale');
    expect(own.policy.version).toBe(3);
  });

  it('records a refused promotion as PromotionBlocked and nothing else', async () => {
    const t = await setup();
    await createRelease(t.deps, 'alice', manifest('1.0.0'));
    const before = (await t.store.auditEvents()).length;
    const err = await promote(t.deps, 'dave', 'fraud-detector@1.0.0', 'staging').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TollgateError);
    expect((err as TollgateError).message).toMatch(/approvals\/signoff:ml-engineer missing; readiness\/alerts-tested missing/);
    const events = await t.store.auditEvents();
    expect(events.slice(before).map((e) => e.type)).toEqual(['PromotionBlocked']);
    expect(await t.store.stageHolder('fraud-detector', 'staging')).toBeUndefined();
    expect((await verifyAudit(t.store, t.deps.serverKey)).ok).toBe(true);
  });

  it('leaves nothing written when a use case fails half-way', async () => {
    const t = await setup();
    await createRelease(t.deps, 'alice', manifest('1.0.0'));
    const events = (await t.store.auditEvents()).length;
    // carol does not hold ml-engineer: the draft refuses before anything is written.
    await expect(draftSignoffs(t.store, 'carol', { release: 'fraud-detector@1.0.0', stage: 'staging', role: 'ml-engineer', decision: 'approve' }, t.deps.now())).rejects.toMatchObject({ code: 'TG_ROLE_NOT_HELD' });
    // A sign-off signed with the wrong key is refused inside the transaction.
    const draft = await draftSignoffs(t.store, 'bob', { release: 'fraud-detector@1.0.0', stage: 'staging', role: 'ml-engineer', decision: 'approve' }, t.deps.now());
    const forged = draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.carol.privateKeyPem)) }));
    await expect(recordSignoffs(t.deps, 'bob', forged)).rejects.toMatchObject({ code: 'TG_SIGNATURE_INVALID' });
    // Someone else cannot submit bob's signed sign-off.
    const genuine = draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.bob.privateKeyPem)) }));
    await expect(recordSignoffs(t.deps, 'carol', genuine)).rejects.toMatchObject({ code: 'TG_NOT_ALLOWED' });
    // Other content under a known name is refused.
    await expect(createRelease(t.deps, 'alice', { ...manifest('1.0.0'), risk: 'high' })).rejects.toMatchObject({ code: 'TG_RELEASE_CONFLICT' });
    expect((await t.store.auditEvents()).length).toBe(events);
    expect((await t.store.evidence((await t.store.findRelease('fraud-detector', '1.0.0'))!.digest)).signoffs).toEqual([]);
  });

  it('refuses a sign-off dated far from the server clock', async () => {
    const t = await setup();
    await createRelease(t.deps, 'alice', manifest('1.0.0'));
    const draft = await draftSignoffs(t.store, 'bob', { release: 'fraud-detector@1.0.0', stage: 'staging', role: 'ml-engineer', decision: 'approve' }, new Date('2026-11-01T00:00:00Z'));
    const signed = draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.bob.privateKeyPem)) }));
    await expect(recordSignoffs(t.deps, 'bob', signed)).rejects.toMatchObject({ code: 'TG_SIGNATURE_INVALID' });
  });

  it('promotes, replaces, and rolls back step by step', async () => {
    const t = await setup();
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) {
      await createRelease(t.deps, 'alice', manifest(v));
      await t.ready(`fraud-detector@${v}`);
      const r = await promote(t.deps, 'dave', `fraud-detector@${v}`, 'staging');
      expect(r.promoted).toBe(true);
    }
    expect((await t.store.stageHolder('fraud-detector', 'staging'))?.version).toBe('1.2.0');
    // Promoting the holder again is refused: it already holds the stage.
    await expect(promote(t.deps, 'dave', 'fraud-detector@1.2.0', 'staging')).rejects.toMatchObject({ code: 'TG_PROMOTION_BLOCKED' });

    const back = await rollback(t.deps, 'dave', 'fraud-detector', 'staging', 'precision dropped');
    expect([back.from, back.to]).toEqual(['fraud-detector@1.2.0', 'fraud-detector@1.1.0']);
    const again = await rollback(t.deps, 'dave', 'fraud-detector', 'staging', 'still bad');
    expect(again.to).toBe('fraud-detector@1.0.0');
    await expect(rollback(t.deps, 'dave', 'fraud-detector', 'staging', 'no more')).rejects.toMatchObject({ code: 'TG_NO_PREVIOUS_RELEASE' });
    await expect(rollback(t.deps, 'dave', 'fraud-detector', 'staging', ' ')).rejects.toMatchObject({ code: 'TG_USAGE' });
    // A subject with no release is unknown, not an empty stage (issue 13).
    await expect(rollback(t.deps, 'dave', 'other', 'staging', 'x')).rejects.toMatchObject({ code: 'TG_RELEASE_NOT_FOUND' });

    const types = (await t.store.auditEvents()).map((e) => e.type);
    expect(types.filter((x) => x === 'ReleasePromoted')).toHaveLength(3);
    expect(types.filter((x) => x === 'ReleaseRolledBack')).toHaveLength(2);
    expect(await verifyAudit(t.store, t.deps.serverKey)).toMatchObject({ ok: true, events: types.length });
  });

  it('serializes concurrent promotions of one release: exactly one succeeds', async () => {
    const t = await setup();
    await createRelease(t.deps, 'alice', manifest('1.0.0'));
    await t.ready('fraud-detector@1.0.0');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => promote(t.deps, 'dave', 'fraud-detector@1.0.0', 'staging')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await t.store.promotions({ subject: 'fraud-detector', stage: 'staging' })).toHaveLength(1);
  });
});
