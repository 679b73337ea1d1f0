// Group commit (service/change.ts): on SQLite, changes asked for while a transaction runs commit
// together in the next one, each under its own savepoint, with one signed checkpoint for all of them:
// concurrent sign-offs share transactions, a change that fails in a group leaves nothing behind and
// does not take the others with it, and the log still verifies, row by row. PostgreSQL (when
// TOLLGATE_TEST_PG is set) keeps a transaction per change, with the same outcomes.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import { signSignoff } from '../src/domain/signoff.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { completeItem } from '../src/service/check.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { draftSignoffs, recordSignoffs } from '../src/service/signoff.js';
import { verifyAudit } from '../src/service/verify-audit.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';

const KEYS = { root: generateKeyPair(), alice: generateKeyPair(), bob: generateKeyPair() };
const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: group-commit
roster:
  root: { roles: [admin], key: "${KEYS.root.publicKey}" }
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  bob: { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
stages:
  - name: staging
gates:
  - id: inventory
    stage: staging
    checklist:
      - { id: datasets-listed }
  - id: approvals
    stage: staging
    signoffs:
      - { role: ml-engineer, count: 1 }
`;
const REL = 'scorer@1.0.0';

const pgUrl = process.env.TOLLGATE_TEST_PG;
const schemas: string[] = [];
const dirs: string[] = [];

/** A store, and how many checkpoints it holds, read behind its back. */
type Opened = { store: Store; checkpoints: () => Promise<number> };

const stores: [string, () => Promise<Opened>][] = [
  [
    'SQLite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-group-commit-'));
      dirs.push(dir);
      const file = path.join(dir, 'tollgate.db');
      const checkpoints = async () => {
        const db = new BetterSqlite3(file, { readonly: true });
        try {
          return (db.prepare('select count(*) as n from audit_checkpoints').get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      return { store: await createSqliteStore(file), checkpoints };
    },
  ],
];
if (pgUrl) {
  stores.push([
    'PostgreSQL',
    async () => {
      const schema = `tollgate_test_${randomUUID().replaceAll('-', '')}`;
      schemas.push(schema);
      const checkpoints = async () => {
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        try {
          return Number((await client.query(`select count(*) as n from ${pg.escapeIdentifier(schema)}.audit_checkpoints`)).rows[0].n);
        } finally {
          await client.end();
        }
      };
      return { store: await createPostgresStore(pgUrl, { schema }), checkpoints };
    },
  ]);
}

afterAll(async () => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  if (pgUrl && schemas.length > 0) {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    for (const schema of schemas) await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await client.end();
  }
});

async function setup(open: () => Promise<Opened>) {
  const { store, checkpoints } = await open();
  const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => new Date() };
  await applyPolicy(deps, 'root', POLICY, 'tollgate.yaml');
  await createRelease(deps, 'alice', {
    subject: 'scorer',
    version: '1.0.0',
    risk: 'low',
    owner: 'alice',
    artifacts: [{ name: 'model', kind: 'model', path: 'model.bin', sha256: 'a'.repeat(64) }],
  });
  return { store, deps, checkpoints };
}

/** `n` different sign-offs by bob, each signed (the comment makes each its own). */
async function signedSignoffs(deps: ServiceDeps, n: number) {
  const draft = await draftSignoffs(deps.store, 'bob', { release: REL, stage: 'staging', role: 'ml-engineer', decision: 'approve' }, deps.now());
  const key = loadPrivateKey(KEYS.bob.privateKeyPem);
  return Array.from({ length: n }, (_, i) => {
    const payload = { ...draft.payloads[0]!, comment: `review ${i}` };
    return { ...payload, signature: signSignoff(payload, key) };
  });
}

describe.each(stores)('group commit on %s', (_name, open) => {
  it('commits concurrent changes together: every one recorded, fewer checkpoints than changes, the log verifies', async () => {
    const { store, deps, checkpoints } = await setup(open);
    const before = await store.auditHead();
    const checkpointsBefore = await checkpoints();
    const signed = await signedSignoffs(deps, 24);
    const recorded = await Promise.all(signed.map((s) => recordSignoffs(deps, 'bob', [s])));
    expect(recorded.map((r) => r[0]!.comment)).toEqual(signed.map((s) => s.comment));

    const after = await store.auditHead();
    expect(after.size - before.size).toBe(24);
    // All were asked for before the first transaction began, so they share transactions (one, as
    // change.ts now gathers them), each ending in one checkpoint that covers the whole log.
    const latest = (await store.latestCheckpoint())!;
    expect(latest.size).toBe(after.size);
    expect(latest.head).toBe(after.head);
    const evidence = await store.evidence(recorded[0]![0]!.releaseDigest);
    expect(evidence.signoffs).toHaveLength(24);
    const result = await verifyAudit(store, deps.serverKey);
    expect(result).toMatchObject({ ok: true, events: after.size });
    const added = (await checkpoints()) - checkpointsBefore;
    if (store.dialect === 'sqlite') {
      expect(added).toBeGreaterThanOrEqual(1);
      expect(added).toBeLessThan(24);
    } else {
      // PostgreSQL keeps a transaction per change (see change.ts): one checkpoint each.
      expect(added).toBe(24);
    }
    await store.close();
  });

  it('rolls back only the change that failed; the others in its group are recorded and vouched for', async () => {
    const { store, deps } = await setup(open);
    const before = await store.auditHead();
    const [good1, good2] = await signedSignoffs(deps, 2);
    const forged = { ...good1!, comment: 'not what was signed' };
    const outcomes = await Promise.allSettled([
      // Occupies the store, so that the three below are asked for meanwhile and share a group.
      completeItem(deps, 'alice', { release: REL, stage: 'staging', item: 'datasets-listed' }),
      recordSignoffs(deps, 'bob', [good1!]),
      recordSignoffs(deps, 'bob', [forged]),
      recordSignoffs(deps, 'bob', [good2!]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'TG_SIGNATURE_INVALID' });

    const after = await store.auditHead();
    expect(after.size - before.size).toBe(3);
    const evidence = await store.evidence((await store.findRelease('scorer', '1.0.0'))!.digest);
    expect(evidence.signoffs.map((s) => s.comment).sort()).toEqual(['review 0', 'review 1']);
    expect(evidence.checklist).toHaveLength(1);
    expect(await verifyAudit(store, deps.serverKey)).toMatchObject({ ok: true, events: after.size });
    await store.close();
  });

  it('a failure inside a savepoint undoes its writes, even after it appended an audit event', async () => {
    const { store, deps } = await setup(open);
    const before = await store.auditHead();
    const boom = new Error('fails after writing');
    const attempt = store.transaction(async (tx) => {
      await expect(
        tx.savepoint(async () => {
          await tx.appendAudit({ type: 'ReleaseCreated', actor: 'user:alice', at: new Date().toISOString(), data: { note: 'undone' } });
          throw boom;
        }),
      ).rejects.toBe(boom);
      return tx.auditHead();
    });
    expect(await attempt).toEqual(before);
    expect(await store.auditHead()).toEqual(before);
    await store.close();
  });
});
