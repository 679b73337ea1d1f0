/**
 * The shared `Store` suite: every implementation (SQLite, file and in memory, in
 * `store.sqlite.test.ts`; PostgreSQL in `store.pg.test.ts`) runs exactly these tests, so they cannot
 * drift apart. Usage: `runStoreSuite('sqlite', () => createSqliteStore(f))`; `makeStore` must return a
 * fresh, empty, migrated store on every call.
 */
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, checkpointMessage, verifyAuditLog } from '../src/audit/log.js';
import { digestBytes, digestOf, type Digest } from '../src/domain/digest.js';
import type {
  HandoffRecord,
  Incident,
  ChecklistCompletion,
  ExceptionSignoff,
  Policy,
  PolicyVersion,
  Promotion,
  Release,
  ReleaseManifest,
  Signoff,
  ValidationResult,
} from '../src/domain/model.js';
import type { ApiToken, AuditCheckpoint, Passkey, Store, StoreReader, StoreTx, Vouch, Webhook } from '../src/store/store.js';
import { recordDigest, type RowClaim } from '../src/domain/records.js';

// ------------------------------------------------------------------------------------- fixtures

const T0 = Date.UTC(2026, 0, 1);
/** A distinct ISO time per call site, `n` minutes after the start of 2026. */
const at = (n: number): string => new Date(T0 + n * 60_000).toISOString();
const hex = (c: string): string => c.repeat(64);
const dg = (c: string): Digest => `sha256:${hex(c)}`;

const POLICY: Policy = {
  apiVersion: 'tollgate/v1',
  kind: 'Policy',
  name: 'fraud-platform',
  roster: { alice: { roles: ['ml-engineer'], key: 'ed25519:AAAA' } },
  stages: [{ name: 'staging' }, { name: 'production', after: 'staging', freeze: ['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z'] }],
  gates: [
    {
      id: 'approvals',
      stage: 'production',
      separationOfDuties: true,
      signoffs: [{ role: 'ml-engineer', count: 1 }],
    },
  ],
};

function policyInput(n: number): Omit<PolicyVersion, 'version'> {
  const policy = { ...POLICY, name: `fraud-platform-${n}` };
  return { digest: digestOf(policy), name: policy.name, policy, source: `name: ${policy.name}\n`, appliedAt: at(n), appliedBy: 'alice' };
}

function release(version: string, extra: Partial<ReleaseManifest> = {}): Release {
  const manifest: ReleaseManifest = {
    subject: 'fraud-detector',
    version,
    risk: 'high',
    owner: 'alice',
    artifacts: [{ name: 'model', kind: 'model', path: 'model/model.onnx', sha256: hex('a'), size: 12 }],
    ...extra,
  };
  return { subject: manifest.subject, version, digest: digestOf(manifest), manifest, createdAt: at(1), createdBy: 'alice' };
}

function checklist(r: Release, id: string, extra: Partial<ChecklistCompletion> = {}): ChecklistCompletion {
  return { id, releaseDigest: r.digest, stage: 'staging', gateId: 'inventory', itemId: 'datasets-listed', itemDigest: dg('c'), by: 'alice', at: at(10), ...extra };
}

function signoff(r: Release, id: string, extra: Partial<Signoff> = {}): Signoff {
  return {
    type: 'tollgate/signoff/v1',
    release: `${r.subject}@${r.version}`,
    releaseDigest: r.digest,
    stage: 'production',
    gate: 'approvals',
    gateDigest: dg('d'),
    role: 'security',
    decision: 'approve',
    signer: 'carol',
    at: at(20),
    id,
    signature: 'c2lnbmF0dXJl',
    ...extra,
  };
}

function validation(r: Release, id: string): ValidationResult {
  return {
    id,
    releaseDigest: r.digest,
    stage: 'staging',
    gateId: 'automated',
    validationId: 'drift',
    validator: 'drift',
    validatorVersion: '1.0.0',
    definitionDigest: dg('e'),
    status: 'passed',
    summary: 'no column drifted',
    measurements: { columns: { amount: { kind: 'numeric', psi: 0.01, ks_pvalue: 0.4 } }, nested: [1, 'two', null, true] },
    thresholds: { psi: { max: 0.2 } },
    inputs: { reference: dg('1'), current: dg('2') },
    details: { histogram: [0.1, 0.9] },
    durationMs: 1234,
    by: 'ci',
    at: at(30),
  };
}

function promotion(r: Release, id: string, policyVersion: number, extra: Partial<Promotion> = {}): Promotion {
  return {
    id,
    subject: r.subject,
    stage: 'staging',
    version: r.version,
    releaseDigest: r.digest,
    policyVersion,
    policyDigest: dg('f'),
    kind: 'promotion',
    by: 'bob',
    at: at(40),
    ...extra,
  };
}

/** A policy and a release, the parents most other rows need. */
async function seed(tx: StoreTx, r: Release = release('2.4.0')): Promise<{ policy: PolicyVersion; release: Release }> {
  const policy = await tx.insertPolicy(policyInput(1));
  await tx.insertRelease(r);
  return { policy, release: r };
}

const serverKey = generateKeyPairSync('ed25519');
const checkSignature = (c: AuditCheckpoint): boolean =>
  verify(null, Buffer.from(checkpointMessage(c)), serverKey.publicKey, Buffer.from(c.signature, 'base64'));

function signCheckpoint(body: { size: number; head: string; at: string }): AuditCheckpoint {
  return {
    ...body,
    signature: sign(null, Buffer.from(checkpointMessage(body)), serverKey.privateKey).toString('base64'),
    keyId: 'server-1',
    root: 'ab'.repeat(32),
    note: `tollgate/test\n${body.size}\nq83vEjRWeJA=\n\n— tollgate-server AAAA\n`,
    frontier: ['ab'.repeat(32), 'cd'.repeat(32)],
  };
}

function token(id: string, extra: Partial<ApiToken> = {}): ApiToken {
  return { id, user: 'alice', hash: hex(id.slice(-1)), createdAt: at(0), createdBy: 'root', ...extra };
}

function passkey(id: string, extra: Partial<Passkey> = {}): Passkey {
  return {
    id,
    user: 'carol',
    publicKey: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE',
    coseKey: 'pQECAyYgASFYIA',
    algorithm: -7,
    signCount: 0,
    transports: ['internal', 'hybrid'],
    rpId: 'desk.example',
    origin: 'https://desk.example',
    createdAt: at(3),
    createdBy: 'carol',
    ...extra,
  };
}

/** A `Vouch` that appends an event carrying the claims, as the service's `change` does, and keeps them. */
function recordingVouch(tx: StoreTx, seen: RowClaim[][], type = 'SignoffRecorded'): Vouch {
  return async (claims) => {
    seen.push([...claims]);
    return (await tx.appendAudit({ at: at(60), actor: 'user:carol', type, data: { rows: claims } })).seq;
  };
}

function hook(id: string, extra: Partial<Webhook> = {}): Webhook {
  return {
    id,
    url: `https://hooks.example.com/${id}`,
    events: ['release.promoted'],
    secret: 'whsec_0123456789abcdef',
    createdAt: at(0),
    createdBy: 'root',
    ...extra,
  };
}

function delivery(id: string, webhookId: string, seq: number, extra: { nextAttemptAt?: string } = {}) {
  return {
    id,
    webhookId,
    event: 'release.promoted',
    auditSeq: seq,
    payload: JSON.stringify({ id, seq }),
    createdAt: at(seq),
    nextAttemptAt: extra.nextAttemptAt ?? at(seq),
  };
}

/**
 * One call of every read: typed by `StoreReader`'s keys, so a read added to the interface does not
 * compile until it is listed here, and the tests that go through every read cover it too.
 */
const EVERY_READ: { [K in keyof StoreReader]: (r: StoreReader) => Promise<unknown> } = {
  activePolicy: (r) => r.activePolicy(),
  policyVersion: (r) => r.policyVersion(1),
  policyVersions: (r) => r.policyVersions(),
  findRelease: (r) => r.findRelease('fraud-detector', '2.4.0'),
  listReleases: (r) => r.listReleases(),
  findSignoff: (r) => r.findSignoff(dg('0'), 'carol', 'c2lnbmF0dXJl'),
  evidence: (r) => r.evidence(dg('0')),
  promotions: (r) => r.promotions(),
  stageHolder: (r) => r.stageHolder('fraud-detector', 'staging'),
  stageHolds: (r) => r.stageHolds({ subject: 'fraud-detector' }),
  incidents: (r) => r.incidents({ subject: 'fraud-detector', open: true }),
  findIncident: (r) => r.findIncident('inc_1'),
  handoffs: (r) => r.handoffs({ promotionIds: ['p1'] }),
  blob: (r) => r.blob(dg('0')),
  auditEvents: (r) => r.auditEvents(),
  auditHead: (r) => r.auditHead(),
  auditEventsAt: (r) => r.auditEventsAt([1, 2]),
  auditPage: (r) => r.auditPage(0, 10),
  auditSearch: (r) => r.auditSearch({ type: 'PolicyApplied' }, 0, 10),
  auditNodes: (r) => r.auditNodes([{ level: 0, index: 0 }]),
  auditNodePage: (r) => r.auditNodePage(0, -1, 10),
  auditNodeBounds: (r) => r.auditNodeBounds(),
  latestCheckpoint: (r) => r.latestCheckpoint(),
  findTokenByHash: (r) => r.findTokenByHash(hex('0')),
  listTokens: (r) => r.listTokens(),
  findPasskey: (r) => r.findPasskey('cred-a'),
  listPasskeys: (r) => r.listPasskeys({ user: 'carol' }),
  listWebhooks: (r) => r.listWebhooks(),
  webhookDeliveries: (r) => r.webhookDeliveries(),
  deliveryAttempts: (r) => r.deliveryAttempts(['d1']),
  rowVouchers: (r) => r.rowVouchers('signoffs', ['s1']),
  rowsInRange: (r) => r.rowsInRange('promotions', 1, 10),
  strayRows: (r) => r.strayRows('releases', 0),
  blobDigests: (r) => r.blobDigests('', 10),
};

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1));

// ---------------------------------------------------------------------------------------- suite

/** Registers the shared Store tests under `describe(name)`. */
export function runStoreSuite(name: string, makeStore: () => Promise<Store>): void {
  /** Runs `fn` on a fresh store and always closes it. */
  async function withStore(fn: (store: Store) => Promise<void>): Promise<void> {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`Store suite: ${name}`, () => {
    it('starts empty', () =>
      withStore(async (store) => {
        expect(await store.activePolicy()).toBeUndefined();
        expect(await store.policyVersion(1)).toBeUndefined();
        expect(await store.findRelease('fraud-detector', '2.4.0')).toBeUndefined();
        expect(await store.listReleases()).toEqual([]);
        expect(await store.evidence(dg('0'))).toEqual({ checklist: [], signoffs: [], validations: [] });
        expect(await store.promotions()).toEqual([]);
        expect(await store.stageHolder('fraud-detector', 'staging')).toBeUndefined();
        expect(await store.blob(dg('0'))).toBeUndefined();
        expect(await store.auditEvents()).toEqual([]);
        expect(await store.auditHead()).toEqual({ size: 0, head: GENESIS_HASH });
        expect(await store.latestCheckpoint()).toBeUndefined();
      }));

    it('numbers policy versions 1, 2, … and the newest is active', () =>
      withStore(async (store) => {
        const v1 = await store.transaction((tx) => tx.insertPolicy(policyInput(1)));
        const v2 = await store.transaction((tx) => tx.insertPolicy(policyInput(2)));
        const v3 = await store.transaction((tx) => tx.insertPolicy(policyInput(3)));
        expect([v1.version, v2.version, v3.version]).toEqual([1, 2, 3]);
        expect(v2).toStrictEqual({ ...policyInput(2), version: 2 });
        expect(await store.activePolicy()).toStrictEqual(v3);
        expect(await store.policyVersion(1)).toStrictEqual(v1);
        expect(await store.policyVersion(2)).toStrictEqual(v2);
        expect(await store.policyVersion(4)).toBeUndefined();
        const { policy: _p, source: _s, ...info } = v3;
        expect((await store.policyVersions()).map((v) => v.version)).toEqual([3, 2, 1]);
        expect((await store.policyVersions())[0]).toStrictEqual(info);
      }));

    it('round-trips releases and filters them by subject', () =>
      withStore(async (store) => {
        const a = release('2.4.0');
        const b = {
          ...release('2.5.0', {
            lineage: [{ from: ['train-data', 'code'], to: 'model', step: 'train' }],
            testedIn: ['dev'],
            dependencies: { python: '3.11' },
            labels: { team: 'risk' },
          }),
          createdAt: at(2),
        };
        const otherManifest: ReleaseManifest = { ...a.manifest, subject: 'churn-model' };
        const other: Release = { ...a, subject: 'churn-model', digest: digestOf(otherManifest), manifest: otherManifest, createdAt: at(3) };
        await store.transaction(async (tx) => {
          await tx.insertRelease(a);
          await tx.insertRelease(b);
          await tx.insertRelease(other);
          // Reads inside the transaction see its own writes.
          expect(await tx.findRelease('fraud-detector', '2.4.0')).toStrictEqual(a);
        });
        expect(await store.findRelease('fraud-detector', '2.4.0')).toStrictEqual(a);
        expect(await store.findRelease('fraud-detector', '2.5.0')).toStrictEqual(b);
        expect(await store.findRelease('fraud-detector', '9.9.9')).toBeUndefined();
        expect(await store.listReleases()).toStrictEqual([a, b, other]);
        expect(await store.listReleases({ subject: 'fraud-detector' })).toStrictEqual([a, b]);
        expect(await store.listReleases({ subject: 'nothing' })).toEqual([]);
      }));

    it('refuses a second release with the same subject and version', () =>
      withStore(async (store) => {
        await store.transaction((tx) => tx.insertRelease(release('2.4.0')));
        const changed = release('2.4.0', { risk: 'low' });
        expect(changed.digest).not.toBe(release('2.4.0').digest);
        await expect(
          store.transaction(async (tx) => {
            await tx.appendAudit({ at: at(1), actor: 'user:alice', type: 'ReleaseCreated', data: {} });
            await tx.insertRelease(changed);
          }),
        ).rejects.toMatchObject({ code: 'TG_RELEASE_CONFLICT' });
        // The same content again is refused too: the service answers that case before writing.
        await expect(store.transaction((tx) => tx.insertRelease(release('2.4.0')))).rejects.toMatchObject({
          code: 'TG_RELEASE_CONFLICT',
        });
        expect(await store.findRelease('fraud-detector', '2.4.0')).toStrictEqual(release('2.4.0'));
        expect(await store.auditEvents()).toEqual([]);
      }));

    it('round-trips evidence of every kind, oldest first, absent fields absent', () =>
      withStore(async (store) => {
        const r = release('2.4.0');
        const other = release('2.5.0');
        const c1 = checklist(r, 'c1', { at: at(12), evidence: { name: 'plan.md', digest: dg('9'), size: 42 }, note: 'see wiki' });
        const c2 = checklist(r, 'c2', { at: at(11), itemId: 'alerts-tested' });
        const c3 = checklist(r, 'c3', { at: at(13), evidence: { name: 'runbook', uri: 'https://wiki.example/runbook' } });
        const s1 = signoff(r, 's1', { comment: 'looks good' });
        const s2 = signoff(r, 's2', { at: at(19), decision: 'reject', signer: 'dave', role: 'ml-engineer', signature: 'c2Vjb25k' });
        const v1 = validation(r, 'v1');
        const v2 = { ...validation(r, 'v2'), status: 'errored' as const, measurements: {}, inputs: {}, at: at(29) };
        await store.transaction(async (tx) => {
          await seed(tx, r);
          await tx.insertRelease(other);
          for (const c of [c1, c2, c3]) await tx.insertChecklist(c);
          for (const s of [s1, s2]) await tx.insertSignoff(s);
          for (const v of [v1, v2]) await tx.insertValidation(v);
          await tx.insertChecklist(checklist(other, 'c-other'));
        });
        const ev = await store.evidence(r.digest);
        expect(ev).toStrictEqual({ checklist: [c2, c1, c3], signoffs: [s2, s1], validations: [v2, v1] });
        expect(Object.keys(ev.checklist[0]!)).not.toContain('note');
        expect(Object.keys(ev.checklist[0]!)).not.toContain('evidence');
        expect(Object.keys(ev.signoffs[0]!)).not.toContain('comment');
        expect((await store.evidence(other.digest)).checklist.map((c) => c.id)).toEqual(['c-other']);
        // One sign-off by its signature: only of that release and signer.
        expect(await store.findSignoff(r.digest, 'carol', s1.signature)).toStrictEqual(s1);
        expect(await store.findSignoff(r.digest, 'dave', s1.signature)).toBeUndefined();
        expect(await store.findSignoff(other.digest, 'carol', s1.signature)).toBeUndefined();
        expect(await store.findSignoff(r.digest, 'carol', 'bm9uZQ==')).toBeUndefined();
      }));

    it('refuses evidence for a release it does not know', () =>
      withStore(async (store) => {
        await expect(store.transaction((tx) => tx.insertChecklist(checklist(release('1.0.0'), 'c1')))).rejects.toThrow();
        expect(await store.evidence(release('1.0.0').digest)).toEqual({ checklist: [], signoffs: [], validations: [] });
      }));

    it('records promotions, moves the stage holder and filters promotions', () =>
      withStore(async (store) => {
        const r1 = release('2.4.0');
        const r2 = release('2.5.0');
        const p1 = promotion(r1, 'p1', 1, { at: at(40) });
        const p2 = promotion(r1, 'p2', 1, { stage: 'production', at: at(41) });
        // The same `at` as p2 on purpose: order comes from insertion, not the clock.
        const p3 = promotion(r2, 'p3', 1, { at: at(41), previousVersion: '2.4.0' });
        const p4 = promotion(r1, 'p4', 1, { kind: 'rollback', at: at(41), previousVersion: '2.5.0', reason: 'latency regression' });
        await store.transaction(async (tx) => {
          await seed(tx, r1);
          await tx.insertRelease(r2);
          await tx.insertPromotion(p1);
          expect(await tx.stageHolder('fraud-detector', 'staging')).toStrictEqual(p1);
        });
        await store.transaction(async (tx) => {
          await tx.lockStage('fraud-detector', 'production');
          await tx.insertPromotion(p2);
        });
        await store.transaction(async (tx) => {
          await tx.lockStage('fraud-detector', 'staging');
          await tx.insertPromotion(p3);
        });
        expect(await store.stageHolder('fraud-detector', 'staging')).toStrictEqual(p3);
        await store.transaction((tx) => tx.insertPromotion(p4));

        expect(await store.stageHolder('fraud-detector', 'staging')).toStrictEqual(p4);
        expect(await store.stageHolder('fraud-detector', 'production')).toStrictEqual(p2);
        expect(await store.stageHolder('churn-model', 'staging')).toBeUndefined();
        expect(await store.promotions()).toStrictEqual([p1, p2, p3, p4]);
        expect(await store.promotions({ subject: 'fraud-detector' })).toStrictEqual([p1, p2, p3, p4]);
        expect(await store.promotions({ subject: 'churn-model' })).toEqual([]);
        expect(await store.promotions({ stage: 'staging' })).toStrictEqual([p1, p3, p4]);
        expect(await store.promotions({ releaseDigest: r2.digest })).toStrictEqual([p3]);
        expect(await store.promotions({ subject: 'fraud-detector', stage: 'staging', releaseDigest: r1.digest })).toStrictEqual([p1, p4]);
        expect(Object.keys((await store.promotions())[0]!)).not.toContain('previousVersion');
      }));

    it('records incidents, resolves them, and filters open ones and by subject', () =>
      withStore(async (store) => {
        const r = release('2.4.0');
        const open: Incident = {
          id: 'inc_a',
          subject: 'fraud-detector',
          stage: 'production',
          version: '2.4.0',
          releaseDigest: r.digest,
          promotionId: 'p1',
          openedBy: 'alice',
          openedAt: at(50),
          reason: 'alerts firing',
        };
        const other: Incident = { ...open, id: 'inc_b', subject: 'churn-model', openedAt: at(51) };
        await store.transaction(async (tx) => {
          await seed(tx, r);
          await tx.insertIncident(open);
          await tx.insertIncident(other);
        });
        expect(await store.findIncident('inc_a')).toStrictEqual(open);
        expect(await store.findIncident('inc_z')).toBeUndefined();
        expect(Object.keys((await store.findIncident('inc_a'))!)).not.toContain('resolved');
        const resolved: Incident = { ...open, resolved: { by: 'dave', at: at(52), note: 'rolled back' } };
        const quiet: Incident = { ...other, resolved: { by: 'dave', at: at(53) } };
        await store.transaction(async (tx) => {
          await tx.updateIncident(resolved);
          await tx.updateIncident(quiet);
        });
        expect(await store.incidents()).toStrictEqual([resolved, quiet]);
        expect(await store.incidents({ subject: 'churn-model' })).toStrictEqual([quiet]);
        expect(await store.incidents({ open: true })).toEqual([]);
        expect(await store.incidents({ open: false, stage: 'production', subject: 'fraud-detector' })).toStrictEqual([resolved]);
        await store.transaction((tx) => tx.insertIncident({ ...open, id: 'inc_c', openedAt: at(54) }));
        expect((await store.incidents({ open: true })).map((i) => i.id)).toEqual(['inc_c']);
      }));

    it('records hand-offs, a retry replacing the earlier attempt under a new claim, absent fields absent', () =>
      withStore(async (store) => {
        const r1 = release('2.4.0');
        const p1 = promotion(r1, 'p1', 1, { at: at(40) });
        const p2 = promotion(r1, 'p2', 1, { stage: 'production', at: at(41) });
        const handoff = (p: Promotion, index: number, extra: Partial<HandoffRecord> = {}): HandoffRecord => ({
          id: `${p.id}/${index}`,
          promotionId: p.id,
          subject: p.subject,
          stage: p.stage,
          version: p.version,
          releaseDigest: p.releaseDigest,
          index,
          kind: 'command',
          target: './deploy.sh',
          definitionDigest: dg('d'),
          outcome: 'failed',
          attempts: 1,
          error: 'exit code 3: deploy window not open',
          by: 'dave',
          at: at(42),
          ...extra,
        });
        const seen: RowClaim[][] = [];
        const first = [handoff(p2, 1), handoff(p2, 0, { kind: 'git', target: '/srv/deploy.git main:x.json', outcome: 'succeeded', error: undefined, commit: 'c'.repeat(40) })];
        const { error: _none, ...gitRecord } = first[1]!;
        await store.transaction(async (tx) => {
          await seed(tx, r1);
          await tx.insertPromotion(p1);
          await tx.insertPromotion(p2);
          await tx.putHandoffs([first[0]!, gitRecord as HandoffRecord], recordingVouch(tx, seen, 'HandoffRecorded'));
        });
        expect(await store.handoffs({ promotionIds: ['p2'] })).toStrictEqual([gitRecord, first[0]]);
        expect(Object.keys((await store.handoffs({ promotionIds: ['p2'] }))[0]!)).not.toContain('error');
        expect(await store.handoffs({ promotionIds: [] })).toEqual([]);
        expect(await store.handoffs({ promotionIds: ['p1'] })).toEqual([]);
        // The retry: the same key, the new attempt's fields, a new claim.
        const retried = handoff(p2, 1, { outcome: 'succeeded', attempts: 2, error: undefined, at: at(43) });
        const { error: _gone, ...retriedRecord } = retried;
        await store.transaction((tx) => tx.putHandoffs([retriedRecord as HandoffRecord], recordingVouch(tx, seen, 'HandoffRecorded')));
        expect(await store.handoffs({ releaseDigest: r1.digest, stage: 'production' })).toStrictEqual([gitRecord, retriedRecord]);
        expect(await store.handoffs({ releaseDigest: r1.digest, stage: 'staging' })).toEqual([]);
        const row = (await store.rowVouchers('handoffs', ['p2/1'])).get('p2/1')!;
        expect(seen).toHaveLength(2);
        expect(seen[0]!.map((c) => c.key)).toEqual(['p2/1', 'p2/0']);
        expect(row.digest).toBe(seen[1]![0]!.digest);
        expect(row.digest).not.toBe(seen[0]![0]!.digest);
      }));

    it('serializes concurrent promotions of one stage', () =>
      withStore(async (store) => {
        const releases = Array.from({ length: 8 }, (_, i) => release(`3.${i}.0`));
        await store.transaction(async (tx) => {
          await tx.insertPolicy(policyInput(1));
          for (const r of releases) await tx.insertRelease(r);
        });
        // Each promotion reads the holder, yields, then writes: without serialization two would see
        // the same previous holder.
        await Promise.all(
          releases.map((r, i) =>
            store.transaction(async (tx) => {
              await tx.lockStage(r.subject, 'staging');
              const holder = await tx.stageHolder(r.subject, 'staging');
              await tick();
              await tx.insertPromotion(promotion(r, `p${i}`, 1, holder ? { previousVersion: holder.version } : {}));
              await tx.appendAudit({ at: at(50), actor: 'user:bob', type: 'ReleasePromoted', data: { release: r.version } });
            }),
          ),
        );
        const all = await store.promotions({ stage: 'staging' });
        expect(all).toHaveLength(8);
        expect(all[0]!.previousVersion).toBeUndefined();
        for (let i = 1; i < all.length; i++) expect(all[i]!.previousVersion).toBe(all[i - 1]!.version);
        expect((await store.stageHolder('fraud-detector', 'staging'))?.id).toBe(all[7]!.id);
      }));

    it('keeps one copy of a blob however often it is put', () =>
      withStore(async (store) => {
        const bytes = new TextEncoder().encode('rollback plan: redeploy 2.3.1');
        const digest = digestBytes(bytes);
        await store.transaction((tx) => tx.putBlob(digest, bytes));
        await store.transaction(async (tx) => {
          await tx.putBlob(digest, bytes);
          // A view into a larger buffer is stored by its own bytes only.
          const padded = new Uint8Array([0, ...bytes, 0]);
          await tx.putBlob(digest, padded.subarray(1, 1 + bytes.length));
        });
        const back = await store.blob(digest);
        expect(back).toBeInstanceOf(Uint8Array);
        expect(Buffer.isBuffer(back)).toBe(false);
        expect(back).toStrictEqual(bytes);
        const empty = new Uint8Array();
        await store.transaction((tx) => tx.putBlob(digestBytes(empty), empty));
        expect(await store.blob(digestBytes(empty))).toStrictEqual(empty);
        await expect(store.transaction((tx) => tx.putBlob(dg('0'), bytes))).rejects.toThrow(/digest/);
      }));

    it('leaves nothing behind when a transaction throws, audit events included', () =>
      withStore(async (store) => {
        const before = await store.transaction(async (tx) => {
          await tx.appendAudit({ at: at(0), actor: 'system', type: 'StoreCreated', data: {} });
          return tx.auditHead();
        });
        const boom = new Error('boom');
        const r = release('2.4.0');
        const bytes = new TextEncoder().encode('evidence');
        await expect(
          store.transaction(async (tx) => {
            const { policy } = await seed(tx, r);
            await tx.insertChecklist(checklist(r, 'c1'));
            await tx.insertSignoff(signoff(r, 's1'));
            await tx.insertValidation(validation(r, 'v1'));
            await tx.insertPromotion(promotion(r, 'p1', policy.version));
            await tx.putBlob(digestBytes(bytes), bytes);
            await tx.appendAudit({ at: at(1), actor: 'user:alice', type: 'ReleaseCreated', data: { release: r.version } });
            await tx.putCheckpoint(signCheckpoint({ ...(await tx.auditHead()), at: at(1) }));
            await tx.insertToken(token('tok_a'));
            await tx.insertWebhook(hook('whk_a'));
            await tx.enqueueDeliveries([delivery('d1', 'whk_a', 1)]);
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.activePolicy()).toBeUndefined();
        expect(await store.listReleases()).toEqual([]);
        expect(await store.evidence(r.digest)).toEqual({ checklist: [], signoffs: [], validations: [] });
        expect(await store.promotions()).toEqual([]);
        expect(await store.stageHolder(r.subject, 'staging')).toBeUndefined();
        expect(await store.blob(digestBytes(bytes))).toBeUndefined();
        expect(await store.auditHead()).toEqual(before);
        expect(await store.latestCheckpoint()).toBeUndefined();
        expect(await store.listTokens()).toEqual([]);
        expect(await store.listWebhooks({ includeRemoved: true })).toEqual([]);
        expect(await store.webhookDeliveries()).toEqual([]);
        // The store is still usable, and the chain continues from the last committed event.
        const next = await store.transaction((tx) => tx.appendAudit({ at: at(2), actor: 'system', type: 'PolicyApplied', data: {} }));
        expect(next).toMatchObject({ seq: 2, prev: before.head });
      }));

    it('returns what the transaction callback returns', () =>
      withStore(async (store) => {
        expect(await store.transaction(async () => 42)).toBe(42);
      }));

    it('refuses use of the store itself inside a transaction, instead of hanging', () =>
      withStore(async (store) => {
        await expect(store.transaction(async () => store.activePolicy())).rejects.toThrow(/its `tx`/);
        await expect(store.transaction(async () => store.transaction(async () => 1))).rejects.toThrow(/its `tx`/);
        expect(await store.activePolicy()).toBeUndefined();
      }));

    it('refuses every read on the store inside a transaction, and answers each on the tx', () =>
      withStore(async (store) => {
        for (const [name, read] of Object.entries(EVERY_READ)) {
          await expect(store.transaction(async () => read(store)), name).rejects.toThrow(/its `tx`/);
          // Also after an await inside the callback, where only the async context tells it is inside.
          await expect(
            store.transaction(async (tx) => {
              await tx.auditHead();
              return read(store);
            }),
            name,
          ).rejects.toThrow(/its `tx`/);
          const inside = await store.transaction((tx) => read(tx));
          expect(await read(store), name).toStrictEqual(inside);
        }
      }));

    it("lets reads from outside a running transaction through (another request's), and gives no change marker inside one", () =>
      withStore(async (store) => {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let started!: () => void;
        const inside = new Promise<void>((resolve) => (started = resolve));
        const running = store.transaction(async (tx) => {
          await tx.appendAudit({ at: at(0), actor: 'system', type: 'PolicyApplied', data: {} });
          started();
          await held;
          return store.changeMarker();
        });
        await inside;
        // Not refused: it is not inside the callback. SQLite answers once the transaction ends (its one
        // connection is the transaction's until then); PostgreSQL at once, with what was committed.
        const outside = store.auditHead();
        release();
        expect(await running).toBeUndefined();
        expect((await outside).size).toBeLessThanOrEqual(1);
        expect(await store.auditHead()).toMatchObject({ size: 1 });
      }));

    it('moves its change marker with every commit of its own, and not without one', () =>
      withStore(async (store) => {
        const first = await store.changeMarker();
        expect(first).toEqual(expect.any(String));
        expect(await store.changeMarker()).toBe(first);
        await store.transaction((tx) => tx.insertToken(token('tok_1')));
        const second = await store.changeMarker();
        expect(second).not.toBe(first);
        await expect(
          store.transaction(async (tx) => {
            await tx.insertToken(token('tok_2'));
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.changeMarker()).toBe(second);
      }));

    it('builds a valid audit chain across many transactions, concurrent ones included', () =>
      withStore(async (store) => {
        const first = await store.transaction((tx) =>
          tx.appendAudit({ at: at(0), actor: 'user:alice', type: 'PolicyApplied', data: { version: 1 } }),
        );
        expect(first).toMatchObject({ seq: 1, prev: GENESIS_HASH });
        for (let i = 0; i < 5; i++) {
          await store.transaction(async (tx) => {
            await tx.appendAudit({ at: at(1), actor: 'user:alice', type: 'ChecklistCompleted', data: { i } });
            await tx.appendAudit({ at: at(1), actor: 'user:alice', type: 'SignoffRecorded', data: { i, second: true } });
          });
        }
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            store.transaction(async (tx) => {
              await tick();
              const e = await tx.appendAudit({ at: at(2), actor: `validator:v${i}`, type: 'ValidationRecorded', data: { i } });
              await tick();
              // Within its transaction, the event just appended is the head.
              expect(await tx.auditHead()).toEqual({ size: e.seq, head: e.hash });
              return e;
            }),
          ),
        );
        const events = await store.auditEvents();
        expect(events).toHaveLength(51);
        expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
        for (const e of results) expect(events[e.seq - 1]).toStrictEqual(e);
        expect(new Set(results.map((e) => e.seq)).size).toBe(40);
        expect(await store.auditHead()).toEqual({ size: 51, head: events[50]!.hash });
        expect(verifyAuditLog(events, undefined, checkSignature)).toEqual({ ok: true, events: 51, head: events[50]!.hash });
      }));

    it('stores audit data as the canonical JSON its hash covers', () =>
      withStore(async (store) => {
        const data = { z: 1, a: { y: [3, 'x', null], b: undefined }, n: 1.5e-7, s: 'é\u2028"' };
        const e = await store.transaction((tx) => tx.appendAudit({ at: at(0), actor: 'system', type: 'PolicyApplied', data }));
        expect(e.data).toStrictEqual({ z: 1, a: { y: [3, 'x', null] }, n: 1.5e-7, s: 'é\u2028"' });
        expect(await store.auditEvents()).toStrictEqual([e]);
        expect(verifyAuditLog([e], undefined, checkSignature).ok).toBe(true);
      }));

    it('searches the audit log by type, actor, time and subject, page by page in order of seq', () =>
      withStore(async (store) => {
        // Subjects whose names hold LIKE's wildcards, and one that differs only by case.
        const rows = [
          { at: at(1), actor: 'user:alice', type: 'ReleaseCreated', data: { release: 'fraud_x@1.0.0' } },
          { at: at(2), actor: 'user:alice', type: 'ReleaseCreated', data: { release: 'fraudXx@1.0.0' } },
          { at: at(3), actor: 'user:dave', type: 'ReleasePromoted', data: { release: 'fraud_x@1.0.0', stage: 'staging' } },
          { at: at(4), actor: 'user:dave', type: 'ReleaseRolledBack', data: { subject: 'fraud_x', stage: 'staging', from: 'fraud_x@1.0.0' } },
          { at: at(5), actor: 'system', type: 'PolicyApplied', data: { version: 2, nested: { release: 'fraud_x@9' } } },
          { at: at(6), actor: 'user:dave', type: 'ReleasePromoted', data: { release: 'FRAUD_X@2.0.0', stage: 'staging' } },
          { at: at(7), actor: 'user:bob', type: 'ReleaseCreated', data: { release: 'fraud_x@2.0.0', note: 'a "subject":"other" in text' } },
        ];
        await store.transaction(async (tx) => {
          for (const r of rows) await tx.appendAudit(r);
        });
        const seqs = async (filter: Parameters<Store['auditSearch']>[0], after = 0, limit = 100) => (await store.auditSearch(filter, after, limit)).map((e) => e.seq);
        expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6, 7]);
        expect(await seqs({ subject: 'fraud_x' })).toEqual([1, 3, 4, 7]);
        expect(await seqs({ subject: 'FRAUD_X' })).toEqual([6]);
        expect(await seqs({ subject: 'fraud%' })).toEqual([]);
        expect(await seqs({ subject: 'other' })).toEqual([]);
        expect(await seqs({ type: 'ReleasePromoted' })).toEqual([3, 6]);
        expect(await seqs({ actor: 'user:dave', since: at(4) })).toEqual([4, 6]);
        expect(await seqs({ type: 'ReleaseCreated', subject: 'fraud_x' })).toEqual([1, 7]);
        // Pages: at most `limit`, after a cursor.
        expect(await seqs({ subject: 'fraud_x' }, 0, 2)).toEqual([1, 3]);
        expect(await seqs({ subject: 'fraud_x' }, 3, 2)).toEqual([4, 7]);
        expect(await seqs({ subject: 'fraud_x' }, 7, 2)).toEqual([]);
        expect((await store.auditSearch({ type: 'PolicyApplied' }, 0, 10))[0]).toStrictEqual((await store.auditEventsAt([5]))[0]);
      }));

    it('round-trips checkpoints, and the newest is the latest', () =>
      withStore(async (store) => {
        const c1 = await store.transaction(async (tx) => {
          await tx.appendAudit({ at: at(0), actor: 'system', type: 'PolicyApplied', data: {} });
          const c = signCheckpoint({ ...(await tx.auditHead()), at: at(0) });
          await tx.putCheckpoint(c);
          return c;
        });
        expect(await store.latestCheckpoint()).toStrictEqual(c1);
        const c2 = await store.transaction(async (tx) => {
          await tx.appendAudit({ at: at(1), actor: 'system', type: 'ReleaseCreated', data: {} });
          const c = signCheckpoint({ ...(await tx.auditHead()), at: at(1) });
          await tx.putCheckpoint(c);
          return c;
        });
        expect(c2.size).toBe(2);
        expect(await store.latestCheckpoint()).toStrictEqual(c2);
        const events = await store.auditEvents();
        expect(verifyAuditLog(events, c2, checkSignature)).toMatchObject({ ok: true, events: 2 });
        // A checkpoint older than the log still verifies the part it covers.
        expect(verifyAuditLog(events, c1, checkSignature).ok).toBe(true);
        // A checkpoint taken again at the same size (nothing new) is kept too.
        const c3 = signCheckpoint({ ...c2, at: at(2) });
        await store.transaction((tx) => tx.putCheckpoint(c3));
        expect(await store.latestCheckpoint()).toStrictEqual(c3);
      }));

    describe('webhooks', () => {
      it('round-trips subscriptions, and removal hides them and drops their pending deliveries', () =>
        withStore(async (store) => {
          await store.transaction(async (tx) => {
            await tx.insertWebhook(hook('whk_a'));
            await tx.insertWebhook(hook('whk_b', { events: ['*'], createdAt: at(1) }));
            await tx.insertWebhook(hook('whk_c', { format: 'slack', createdAt: at(2) }));
            await tx.enqueueDeliveries([delivery('d1', 'whk_a', 1), delivery('d2', 'whk_b', 1)]);
          });
          // A webhook without a format (as before migration 0011) reads back without one: json.
          expect(await store.listWebhooks()).toStrictEqual([hook('whk_a'), hook('whk_b', { events: ['*'], createdAt: at(1) }), hook('whk_c', { format: 'slack', createdAt: at(2) })]);
          expect(await store.transaction((tx) => tx.removeWebhook('whk_c', at(5)))).toBe(true);
          expect(await store.transaction((tx) => tx.removeWebhook('whk_a', at(5)))).toBe(true);
          expect(await store.transaction((tx) => tx.removeWebhook('whk_a', at(6)))).toBe(true);
          expect(await store.transaction((tx) => tx.removeWebhook('whk_none', at(6)))).toBe(false);
          expect((await store.listWebhooks()).map((h) => h.id)).toEqual(['whk_b']);
          expect((await store.listWebhooks({ includeRemoved: true })).find((h) => h.id === 'whk_a')?.removedAt).toBe(at(5));
          const [d1] = await store.webhookDeliveries({ webhookId: 'whk_a' });
          expect(d1).toMatchObject({ id: 'd1', status: 'failed', lastError: 'the webhook was removed' });
          expect((await store.webhookDeliveries({ webhookId: 'whk_b' }))[0]).toMatchObject({ id: 'd2', status: 'pending', attempts: 0 });
        }));

      it('claims due deliveries oldest first, leases them, and records tries', () =>
        withStore(async (store) => {
          await store.transaction(async (tx) => {
            await tx.insertWebhook(hook('whk_a'));
            await tx.enqueueDeliveries([delivery('d3', 'whk_a', 3), delivery('d1', 'whk_a', 1), delivery('late', 'whk_a', 2, { nextAttemptAt: at(100) })]);
          });
          const first = await store.transaction((tx) => tx.claimDeliveries({ now: at(10), leaseUntil: at(11), limit: 10 }));
          expect(first.map((d) => d.id)).toEqual(['d1', 'd3']);
          expect(first[0]).toMatchObject({ webhookId: 'whk_a', event: 'release.promoted', auditSeq: 1, status: 'pending', leaseUntil: at(11) });
          // Leased: nobody else gets them until the lease lapses.
          expect(await store.transaction((tx) => tx.claimDeliveries({ now: at(10), leaseUntil: at(12), limit: 10 }))).toEqual([]);
          await store.transaction((tx) =>
            tx.recordAttempt({ deliveryId: 'd1', attempt: 1, at: at(10), durationMs: 12.6, statusCode: 204 }, { status: 'delivered', nextAttemptAt: at(10), deliveredAt: at(10), lastStatus: 204 }),
          );
          await store.transaction((tx) =>
            tx.recordAttempt(
              { deliveryId: 'd3', attempt: 1, at: at(10), durationMs: 5, statusCode: 500, error: 'the receiver answered 500' },
              { status: 'pending', nextAttemptAt: at(20), lastStatus: 500, lastError: 'the receiver answered 500' },
            ),
          );
          // d3 waits for its backoff; the late one is due now.
          expect((await store.transaction((tx) => tx.claimDeliveries({ now: at(15), leaseUntil: at(16), limit: 10 }))).map((d) => d.id)).toEqual([]);
          expect((await store.transaction((tx) => tx.claimDeliveries({ now: at(100), leaseUntil: at(101), limit: 1 }))).map((d) => d.id)).toEqual(['late']);
          // A lapsed lease is taken over.
          expect((await store.transaction((tx) => tx.claimDeliveries({ now: at(102), leaseUntil: at(103), limit: 5 }))).map((d) => d.id)).toEqual(['late', 'd3']);
          const log = await store.webhookDeliveries();
          expect(log.map((d) => d.id)).toEqual(['d3', 'late', 'd1']);
          expect(log[2]).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: at(10), lastStatus: 204 });
          expect(log[2]!.leaseUntil).toBeUndefined();
          expect(await store.webhookDeliveries({ status: 'delivered' })).toHaveLength(1);
          expect(await store.deliveryAttempts(['d1', 'd3'])).toStrictEqual([
            { deliveryId: 'd1', attempt: 1, at: at(10), durationMs: 13, statusCode: 204 },
            { deliveryId: 'd3', attempt: 1, at: at(10), durationMs: 5, statusCode: 500, error: 'the receiver answered 500' },
          ]);
          // A try recorded after another already delivered it leaves it delivered.
          await store.transaction((tx) =>
            tx.recordAttempt({ deliveryId: 'd1', attempt: 2, at: at(11), durationMs: 1, error: 'late' }, { status: 'pending', nextAttemptAt: at(30), lastError: 'late' }),
          );
          expect((await store.webhookDeliveries({ status: 'delivered' }))[0]?.id).toBe('d1');
        }));

      it('lets concurrent dispatchers claim each delivery once', () =>
        withStore(async (store) => {
          await store.transaction(async (tx) => {
            await tx.insertWebhook(hook('whk_a'));
            await tx.enqueueDeliveries(Array.from({ length: 30 }, (_, i) => delivery(`d${String(i).padStart(2, '0')}`, 'whk_a', i + 1)));
          });
          const claims = await Promise.all(
            Array.from({ length: 6 }, () => store.transaction((tx) => tx.claimDeliveries({ now: at(50), leaseUntil: at(60), limit: 7 }))),
          );
          const ids = claims.flat().map((d) => d.id);
          expect(ids).toHaveLength(30);
          expect(new Set(ids).size).toBe(30);
        }));

      it('redelivers a delivery whatever its state: due now, lease released, its tries kept', () =>
        withStore(async (store) => {
          await store.transaction(async (tx) => {
            await tx.insertWebhook(hook('whk_a'));
            await tx.enqueueDeliveries([delivery('d1', 'whk_a', 1), delivery('d2', 'whk_a', 2)]);
            await tx.claimDeliveries({ now: at(10), leaseUntil: at(11), limit: 10 });
            await tx.recordAttempt(
              { deliveryId: 'd1', attempt: 1, at: at(10), durationMs: 3, statusCode: 204 },
              { status: 'delivered', nextAttemptAt: at(10), deliveredAt: at(10), lastStatus: 204 },
            );
          });
          // d2 is still leased until at(11); a redelivery releases the lease.
          const [d1, d2] = await store.transaction(async (tx) => [await tx.redeliver('d1', at(20)), await tx.redeliver('d2', at(20))]);
          expect(d1).toMatchObject({ id: 'd1', status: 'pending', attempts: 1, nextAttemptAt: at(20), lastStatus: 204 });
          expect(d1!.deliveredAt).toBeUndefined();
          expect(d1!.leaseUntil).toBeUndefined();
          expect(d2).toMatchObject({ id: 'd2', status: 'pending', attempts: 0, nextAttemptAt: at(20) });
          expect(d2!.leaseUntil).toBeUndefined();
          expect(await store.transaction((tx) => tx.redeliver('d_none', at(20)))).toBeUndefined();
          expect(await store.deliveryAttempts(['d1'])).toHaveLength(1);
          const claimed = await store.transaction((tx) => tx.claimDeliveries({ now: at(20), leaseUntil: at(21), limit: 10 }));
          expect(claimed.map((d) => d.id)).toEqual(['d1', 'd2']);
        }));
    });

    describe('passkeys', () => {
      it('round-trips passkeys, found by id, listed by user or ids oldest first, absent fields absent', () =>
        withStore(async (store) => {
          const a = passkey('cred-a', { createdAt: at(5), transports: [] });
          const b = passkey('cred-b', { user: 'dave', createdAt: at(4), signCount: 7, algorithm: -8 });
          const c = passkey('cred-c', { createdAt: at(6) });
          await store.transaction(async (tx) => {
            for (const p of [a, b, c]) await tx.insertPasskey(p);
          });
          expect(await store.findPasskey('cred-a')).toStrictEqual(a);
          expect(Object.keys((await store.findPasskey('cred-a'))!)).not.toContain('revokedAt');
          expect(await store.findPasskey('cred-none')).toBeUndefined();
          expect(await store.listPasskeys()).toStrictEqual([b, a, c]);
          expect(await store.listPasskeys({ user: 'carol' })).toStrictEqual([a, c]);
          expect(await store.listPasskeys({ ids: ['cred-c', 'cred-b', 'cred-none'] })).toStrictEqual([b, c]);
          expect(await store.listPasskeys({ ids: [] })).toStrictEqual([]);
          await expect(store.transaction((tx) => tx.insertPasskey(passkey('cred-a')))).rejects.toThrow();
        }));

      it('revokes a passkey once, vouched by its event: revoking again keeps the first and records nothing', () =>
        withStore(async (store) => {
          await store.transaction((tx) => tx.insertPasskey(passkey('cred-a')));
          const seen: RowClaim[][] = [];
          expect(await store.transaction((tx) => tx.revokePasskey('cred-a', at(7), 'dave', recordingVouch(tx, seen, 'PasskeyRevoked')))).toBe(true);
          expect(await store.transaction((tx) => tx.revokePasskey('cred-a', at(8), 'carol', recordingVouch(tx, seen, 'PasskeyRevoked')))).toBe(true);
          expect(await store.transaction((tx) => tx.revokePasskey('cred-none', at(8), 'dave'))).toBe(false);
          expect(await store.findPasskey('cred-a')).toStrictEqual(passkey('cred-a', { revokedAt: at(7), revokedBy: 'dave' }));
          expect(seen).toHaveLength(1);
          const row = (await store.rowVouchers('passkeys', ['cred-a'])).get('cred-a')!;
          expect(row.digest).toBe(seen[0]![0]!.digest);
          expect(row.auditSeq).toBe(1);
        }));

      it('records a passkey sign-off and the passkey counter under one event; an Ed25519 row keeps its pre-0006 digest', () =>
        withStore(async (store) => {
          const r = release('2.4.0');
          const webauthn = { credentialId: 'cred-a', authenticatorData: 'YXV0aA', clientDataJSON: 'Y2xpZW50', rpId: 'desk.example', origin: 'https://desk.example' };
          const passkeySignoff = signoff(r, 's-pk', { signatureKind: 'webauthn', webauthn, signature: 'c2ln' });
          const plain = signoff(r, 's-ed', { evidenceDigest: dg('7') });
          const seen: RowClaim[][] = [];
          await store.transaction(async (tx) => {
            await seed(tx, r);
            await tx.insertPasskey(passkey('cred-a'));
            await tx.insertSignoff(passkeySignoff, recordingVouch(tx, seen), { id: 'cred-a', signCount: 12 });
            await tx.insertSignoff(plain, recordingVouch(tx, seen));
          });
          // Same time: in the order they were recorded (their events' seq), not by id.
          expect((await store.evidence(r.digest)).signoffs).toStrictEqual([passkeySignoff, plain]);
          expect(await store.findSignoff(r.digest, 'carol', 'c2ln')).toStrictEqual(passkeySignoff);
          expect((await store.findPasskey('cred-a'))!.signCount).toBe(12);
          // One event, two claims: the sign-off and the passkey as its counter now stands.
          expect(seen[0]!.map((c) => `${c.table}/${c.key}`)).toEqual(['signoffs/s-pk', 'passkeys/cred-a']);
          const signoffs = await store.rowVouchers('signoffs', ['s-pk', 's-ed']);
          const passkeys = await store.rowVouchers('passkeys', ['cred-a']);
          expect(signoffs.get('s-pk')).toEqual({ key: 's-pk', auditSeq: 1, digest: seen[0]![0]!.digest });
          expect(passkeys.get('cred-a')).toEqual({ key: 'cred-a', auditSeq: 1, digest: seen[0]![1]!.digest });
          // The columns 0006 added are not part of an Ed25519 sign-off's digest: rows vouched for before it still match.
          const before0006 = {
            id: 's-ed', type: plain.type, release: plain.release, release_digest: plain.releaseDigest, stage: plain.stage, gate: plain.gate,
            gate_digest: plain.gateDigest, role: plain.role, decision: plain.decision, signer: plain.signer, at: plain.at, comment: null,
            signature: plain.signature, evidence_digest: plain.evidenceDigest,
          };
          expect(signoffs.get('s-ed')!.digest).toBe(recordDigest('signoffs', before0006));
          expect(seen[1]![0]!.digest).toBe(recordDigest('signoffs', before0006));
        }));
    });

    describe('break-glass and waivers', () => {
      it('round-trips waivers and break-glass sign-offs with the evidence, absent fields absent, each vouched by its event', () =>
        withStore(async (store) => {
          const r = release('2.4.0');
          const base = { type: 'tollgate/exception/v1' as const, release: 'fraud-detector@2.4.0', releaseDigest: r.digest, stage: 'production', at: at(20), signature: 'c2ln' };
          const waiver: ExceptionSignoff = { ...base, id: 'x-w', kind: 'waiver', role: 'model-risk', signer: 'frank', reason: 'known CVE', gate: 'approvals', gateDigest: dg('5'), requirement: 'pen-test', expiresAt: at(99) };
          const glass: ExceptionSignoff = { ...base, id: 'x-bg', kind: 'break-glass', role: 'incident-commander', signer: 'erin', reason: 'outage', at: at(21), signature: 'c2lnMg==' };
          const seen: RowClaim[][] = [];
          await store.transaction(async (tx) => {
            await seed(tx, r);
            await tx.insertException(glass, recordingVouch(tx, seen, 'BreakGlassSignedOff'));
            await tx.insertException(waiver, recordingVouch(tx, seen, 'RequirementWaived'));
          });
          const ev = await store.evidence(r.digest);
          expect(ev.exceptions).toStrictEqual([waiver, glass]);
          expect(Object.keys(ev.exceptions![1]!)).not.toContain('gate');
          expect(Object.keys(ev.exceptions![1]!)).not.toContain('expiresAt');
          expect(seen.map((c) => c.map((x) => `${x.table}/${x.key}`))).toEqual([['exception_signoffs/x-bg'], ['exception_signoffs/x-w']]);
          const rows = await store.rowVouchers('exception_signoffs', ['x-w', 'x-bg']);
          expect(rows.get('x-w')).toEqual({ key: 'x-w', auditSeq: 2, digest: seen[1]![0]!.digest });
          // A release without any reads as before: no `exceptions` key.
          expect(Object.keys(await store.evidence(release('9.9.9').digest))).toEqual(['checklist', 'signoffs', 'validations']);
        }));

      it("round-trips a break-glass promotion's mark; an ordinary promotion keeps its pre-0009 digest", () =>
        withStore(async (store) => {
          const r = release('2.4.0');
          const mark = { reason: 'outage', signoff: 'x-bg', signer: 'erin', role: 'incident-commander', unmet: ['stage/freeze failed'] };
          const glassed = promotion(r, 'p-bg', 1, { stage: 'production', breakGlass: mark });
          const plain = promotion(r, 'p1', 1);
          const seen: RowClaim[][] = [];
          await store.transaction(async (tx) => {
            await seed(tx, r);
            await tx.insertPromotion(plain, recordingVouch(tx, seen, 'ReleasePromoted'));
            await tx.insertPromotion(glassed, recordingVouch(tx, seen, 'ReleasePromoted'));
          });
          expect(await store.promotions()).toStrictEqual([plain, glassed]);
          expect(Object.keys((await store.promotions())[0]!)).not.toContain('breakGlass');
          const before0009 = {
            id: 'p1', seq: 1, subject: plain.subject, stage: plain.stage, version: plain.version, release_digest: plain.releaseDigest, policy_version: 1,
            policy_digest: plain.policyDigest, kind: plain.kind, by_user: plain.by, at: plain.at, previous_version: null, reason: null,
          };
          expect(seen[0]![0]!.digest).toBe(recordDigest('promotions', before0009));
          expect((await store.rowVouchers('promotions', ['p1'])).get('p1')!.digest).toBe(recordDigest('promotions', before0009));
        }));
    });

    describe('tokens', () => {
      it('round-trips tokens, found by hash and listed oldest first, absent fields absent', () =>
        withStore(async (store) => {
          const a = token('tok_a', { createdAt: at(2), expiresAt: at(100) });
          const b = token('tok_b', { user: 'bob', createdAt: at(1) });
          await store.transaction(async (tx) => {
            await tx.insertToken(a);
            await tx.insertToken(b);
          });
          expect(await store.findTokenByHash(a.hash)).toStrictEqual(a);
          expect(await store.findTokenByHash(b.hash)).toStrictEqual(b);
          expect(await store.findTokenByHash(hex('0'))).toBeUndefined();
          expect(await store.listTokens()).toStrictEqual([b, a]);
        }));

      it('revokes a token once: revoking again keeps the first time, an unknown id is false', () =>
        withStore(async (store) => {
          const a = token('tok_a');
          await store.transaction((tx) => tx.insertToken(a));
          expect(await store.transaction((tx) => tx.revokeToken('tok_a', at(5)))).toBe(true);
          expect(await store.transaction((tx) => tx.revokeToken('tok_a', at(6)))).toBe(true);
          expect(await store.transaction((tx) => tx.revokeToken('tok_none', at(6)))).toBe(false);
          expect(await store.findTokenByHash(a.hash)).toStrictEqual({ ...a, revokedAt: at(5) });
        }));

      it('refuses a second token with the same secret hash', () =>
        withStore(async (store) => {
          await store.transaction((tx) => tx.insertToken(token('tok_a')));
          await expect(store.transaction((tx) => tx.insertToken(token('tok_b', { hash: token('tok_a').hash })))).rejects.toThrow();
          expect((await store.listTokens()).map((t) => t.id)).toEqual(['tok_a']);
        }));
    });
  });
}
