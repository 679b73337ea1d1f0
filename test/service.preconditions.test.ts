// Sign-off preconditions (`after`, `inStage`) and `staleOnNewEvidence`, through the use cases over a
// real SQLite store: a refusal names what is unmet, a rejection is always possible, and a sign-off
// records (and signs) the evidence it saw.
import { describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import type { ReleaseManifest, SignoffDecision } from '../src/domain/model.js';
import { evidenceSetDigest } from '../src/domain/records.js';
import { signSignoff } from '../src/domain/signoff.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { completeItem } from '../src/service/check.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { promote } from '../src/service/promote.js';
import { draftSignoffs, recordSignoffs } from '../src/service/signoff.js';
import { decide } from '../src/service/status.js';
import { verifyAudit } from '../src/service/verify-audit.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';

const USERS = ['alice', 'bob', 'mia', 'dave'] as const;
type User = (typeof USERS)[number];
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<User, ReturnType<typeof generateKeyPair>>;
const REL = 'scorer@1.0.0';

const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: preconditions
roster:
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  bob: { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
  mia: { roles: [model-risk], key: "${KEYS.mia.publicKey}" }
  dave: { roles: [release-manager], key: "${KEYS.dave.publicKey}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: inventory
    stage: staging
    checklist:
      - { id: datasets-listed }
  - id: peer-review
    stage: staging
    signoffs:
      - { role: ml-engineer, count: 1 }
  - id: model-risk
    stage: production
    signoffs:
      rules:
        - { role: model-risk, count: 1, after: [inventory], inStage: staging }
      staleOnNewEvidence: true
  - id: runbook
    stage: production
    checklist:
      - { id: rollback-plan }
`;

async function setup() {
  const now = new Date('2026-11-30T12:00:00Z');
  const store = await createSqliteStore(':memory:');
  const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => now };
  await applyPolicy(deps, 'dave', POLICY, 'tollgate.yaml');
  const manifest: ReleaseManifest = { subject: 'scorer', version: '1.0.0', risk: 'high', owner: 'alice', artifacts: [{ name: 'model', kind: 'model', sha256: 'b'.repeat(64) }] };
  await createRelease(deps, 'alice', manifest);
  const sign = async (user: User, stage: string, role: string, decision: SignoffDecision = 'approve') => {
    const draft = await draftSignoffs(store, user, { release: REL, stage, role, decision }, now);
    return recordSignoffs(deps, user, draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS[user].privateKeyPem)) })));
  };
  return { deps, store, sign, now };
}

const outcome = (d: Awaited<ReturnType<typeof decide>>, gate: string, id: string) => d.gates.find((g) => g.id === gate)?.requirements.find((r) => r.id === id);

describe('sign-off preconditions', () => {
  it('refuses an approval before the gates it waits for are satisfied and the release holds the stage, saying which', async () => {
    const t = await setup();
    const err = await t.sign('mia', 'production', 'model-risk').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TG_SIGNOFF_PRECONDITION', exit: 3 });
    const message = (err as Error).message;
    expect(message).toContain('a model-risk sign-off on gate model-risk of production is given only once');
    expect(message).toContain('gate inventory (staging) is not satisfied yet: datasets-listed missing');
    expect(message).toContain('scorer@1.0.0 does not hold staging (no release does); promote it there first');
    // The refusal recorded nothing.
    expect((await t.store.evidence((await t.store.findRelease('scorer', '1.0.0'))!.digest)).signoffs).toEqual([]);
  });

  it('names only what is still unmet, and accepts the approval once all is met', async () => {
    const t = await setup();
    await completeItem(t.deps, 'alice', { release: REL, stage: 'staging', item: 'datasets-listed' });
    await expect(t.sign('mia', 'production', 'model-risk')).rejects.toThrow(/^a model-risk sign-off on gate model-risk of production is given only once scorer@1\.0\.0 does not hold staging/);
    await t.sign('bob', 'staging', 'ml-engineer');
    await promote(t.deps, 'dave', REL, 'staging');
    const [recorded] = await t.sign('mia', 'production', 'model-risk');
    expect(recorded).toMatchObject({ signer: 'mia', role: 'model-risk', decision: 'approve' });
    expect(outcome(await decide(t.store, REL, 'production', t.now), 'model-risk', 'signoff:model-risk')?.outcome).toBe('satisfied');
    expect((await verifyAudit(t.store, t.deps.serverKey)).ok).toBe(true);
  });

  it('lets a rejection through whatever the state', async () => {
    const t = await setup();
    const [rejection] = await t.sign('mia', 'production', 'model-risk', 'reject');
    expect(rejection).toMatchObject({ decision: 'reject' });
    expect(outcome(await decide(t.store, REL, 'production', t.now), 'model-risk', 'signoff:model-risk')?.outcome).toBe('failed');
  });
});

describe('a sign-off records the evidence it saw', () => {
  it('signs the digest of the stage\'s evidence, and under staleOnNewEvidence goes stale when evidence is recorded after it', async () => {
    const t = await setup();
    await completeItem(t.deps, 'alice', { release: REL, stage: 'staging', item: 'datasets-listed' });
    await t.sign('bob', 'staging', 'ml-engineer');
    await promote(t.deps, 'dave', REL, 'staging');
    const [s] = await t.sign('mia', 'production', 'model-risk');
    const release = (await t.store.findRelease('scorer', '1.0.0'))!;
    expect(s!.evidenceDigest).toBe(evidenceSetDigest(await t.store.evidence(release.digest), release.digest, 'production'));
    await completeItem(t.deps, 'dave', { release: REL, stage: 'production', item: 'rollback-plan' });
    const r = outcome(await decide(t.store, REL, 'production', t.now), 'model-risk', 'signoff:model-risk');
    expect(r?.outcome).toBe('stale');
    expect(r?.reason).toMatch(/evidence was recorded for production after mia signed/);
    // Signing again on the evidence as it is now counts.
    await t.sign('mia', 'production', 'model-risk');
    expect(outcome(await decide(t.store, REL, 'production', t.now), 'model-risk', 'signoff:model-risk')?.outcome).toBe('satisfied');
  });

  it('leaves a sign-off of a rule without staleOnNewEvidence counting after new evidence', async () => {
    const t = await setup();
    await t.sign('bob', 'staging', 'ml-engineer');
    await completeItem(t.deps, 'alice', { release: REL, stage: 'staging', item: 'datasets-listed' });
    expect(outcome(await decide(t.store, REL, 'staging', t.now), 'peer-review', 'signoff:ml-engineer')?.outcome).toBe('satisfied');
  });
});
