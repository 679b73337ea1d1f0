import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, verifyAuditLog } from '../src/audit/log.js';
import { digestBytes, digestOf } from '../src/domain/digest.js';
import type { Policy, Promotion, Release, ReleaseManifest } from '../src/domain/model.js';
import { createMigrationProvider } from '../src/store/migrations/index.js';
import { createPostgresStore } from '../src/store/postgres-store.js';
import type { AuditEvent, Store } from '../src/store/store.js';
import { runStoreSuite } from './store-suite.js';

// PostgreSQL is a server, not a file: these tests need one, named by a URL such as
// postgres://postgres@127.0.0.1:5432/test. Without TOLLGATE_TEST_PG they are skipped, so that
// `npm test` passes on a machine without PostgreSQL; CI sets it (STYLE.md rule 3).
const url = process.env.TOLLGATE_TEST_PG;

describe.skipIf(!url)('PostgreSQL store', () => {
  const databaseUrl = url!;
  // One admin pool for looking behind the store's back and for dropping the test schemas.
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const schemas: string[] = [];

  /** A schema name no other test, run or process uses; dropped after the file's tests. */
  function freshSchema(): string {
    const schema = `tollgate_test_${randomUUID().replaceAll('-', '')}`;
    schemas.push(schema);
    return schema;
  }

  afterAll(async () => {
    for (const schema of schemas) await admin.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await admin.end();
  });

  runStoreSuite('PostgreSQL', () => createPostgresStore(databaseUrl, { schema: freshSchema(), poolSize: 4 }));

  /** Runs `fn` on `count` stores (pools) opened at once on one fresh schema, then closes them all. */
  async function withStores(count: number, fn: (stores: Store[], schema: string) => Promise<void>, storeUrl = databaseUrl): Promise<void> {
    const schema = freshSchema();
    // Settled, not `Promise.all`: when one fails to open, the others are still closed, and none is
    // left migrating after the schema is dropped.
    const opened = await Promise.allSettled(Array.from({ length: count }, () => createPostgresStore(storeUrl, { schema, poolSize: 5 })));
    const stores = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = opened.find((o) => o.status === 'rejected');
    if (failed) {
      await Promise.all(stores.map((s) => s.close()));
      throw failed.reason;
    }
    try {
      await fn(stores, schema);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }

  it('opens while other schemas of the same database are being created and dropped', async () => {
    // Kysely's own introspector reads every schema, and failed with `schema "…" does not exist`
    // whenever another one was dropped meanwhile (parallel test files, another Tollgate database).
    let churning = true;
    const churn = (async () => {
      const churner = new pg.Pool({ connectionString: databaseUrl, max: 1 });
      try {
        while (churning) {
          const other = pg.escapeIdentifier(`tollgate_churn_${randomUUID().replaceAll('-', '')}`);
          await churner.query(`create schema ${other}; create table ${other}.t (id serial primary key, v text)`);
          await churner.query(`drop schema ${other} cascade`);
        }
      } finally {
        await churner.end();
      }
    })();
    try {
      for (let i = 0; i < 12; i++) {
        const store = await createPostgresStore(databaseUrl, { schema: freshSchema(), poolSize: 1 });
        await store.close();
      }
    } finally {
      churning = false;
      await churn;
    }
  });

  it('keeps its data across close and reopen, and migrates only once', async () => {
    const schema = freshSchema();
    const bytes = new TextEncoder().encode('hello');
    const first = await createPostgresStore(databaseUrl, { schema });
    expect(first.dialect).toBe('postgres');
    await first.transaction(async (tx) => {
      await tx.insertPolicy(policyInput());
      await tx.appendAudit({ at: at(0), actor: 'user:alice', type: 'PolicyApplied', data: { version: 1 } });
      await tx.putBlob(digestBytes(bytes), bytes);
    });
    await first.close();

    const second = await createPostgresStore(databaseUrl, { schema });
    expect(await second.auditHead()).toMatchObject({ size: 1 });
    await second.transaction((tx) => tx.appendAudit({ at: at(1), actor: 'user:bob', type: 'ReleaseCreated', data: {} }));
    await second.close();

    const third = await createPostgresStore(databaseUrl, { schema });
    try {
      const events = await third.auditEvents();
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'PolicyApplied'],
        [2, 'ReleaseCreated'],
      ]);
      expect(verifyAuditLog(events, undefined, () => true).ok).toBe(true);
      expect((await third.activePolicy())?.version).toBe(1);
      expect(new TextDecoder().decode(await third.blob(digestBytes(bytes)))).toBe('hello');
    } finally {
      await third.close();
    }
    const { rows } = await admin.query(`select name from ${pg.escapeIdentifier(schema)}.kysely_migration order by name`);
    expect(rows.map((r) => r.name)).toEqual(await migrationNames());
  });

  it('keeps its tables in its own schema, apart from other stores in the same database', async () => {
    await withStores(1, async ([a], schemaA) => {
      await withStores(1, async ([b]) => {
        await a!.transaction((tx) => tx.appendAudit({ at: at(0), actor: 'system', type: 'PolicyApplied', data: {} }));
        expect(await a!.auditHead()).toMatchObject({ size: 1 });
        expect(await b!.auditHead()).toEqual({ size: 0, head: GENESIS_HASH });
      });
      const { rows } = await admin.query<{ table_name: string }>(
        'select table_name from information_schema.tables where table_schema = $1 order by table_name',
        [schemaA],
      );
      expect(rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['audit_events', 'blobs', 'kysely_migration', 'policies', 'promotions', 'releases', 'stage_holders']),
      );
    });
  });

  it('runs the migrations once when several processes open a fresh database at the same moment', async () => {
    // A race shows only sometimes, so it is run a few times over, each on a fresh schema.
    for (let round = 0; round < 3; round++) {
      await withStores(8, async (stores, schema) => {
        for (const store of stores) expect(await store.auditHead()).toEqual({ size: 0, head: GENESIS_HASH });
        const { rows } = await admin.query(`select name from ${pg.escapeIdentifier(schema)}.kysely_migration order by name`);
        expect(rows.map((r) => r.name)).toEqual(await migrationNames());
      });
    }
  });

  /** 2 × 50 transactions from two stores (two pools, as two server processes) appending at once. */
  async function appendConcurrently(stores: Store[]): Promise<void> {
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        stores[i % 2]!.transaction(async (tx) => {
          await tick();
          const e = await tx.appendAudit({ at: at(i), actor: `user:u${i}`, type: 'ValidationRecorded', data: { i } });
          await tick();
          expect(await tx.auditHead()).toEqual({ size: e.seq, head: e.hash });
          return e;
        }),
      ),
    );
    const events = await stores[0]!.auditEvents();
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(verifyAuditLog(events, undefined, () => true)).toEqual({ ok: true, events: 100, head: events[99]!.hash });
    // Every append that reported success is in the log exactly as it was reported.
    const bySeq = new Map<number, AuditEvent>(events.map((e) => [e.seq, e]));
    for (const e of results) expect(bySeq.get(e.seq)).toStrictEqual(e);
    expect(await stores[1]!.auditEvents()).toStrictEqual(events);
  }

  it('builds one valid audit chain when two processes append at the same time', () => withStores(2, appendConcurrently));

  it('builds one valid audit chain even where the server defaults to SERIALIZABLE transactions', async () => {
    // A stricter default would give each transaction a snapshot older than its wait for the audit
    // lock, so two writers would read the same head; the store asks for READ COMMITTED itself.
    const strict = new URL(databaseUrl);
    strict.searchParams.set('options', '-c default_transaction_isolation=serializable');
    await withStores(2, appendConcurrently, strict.href);
  });

  it('makes a second process wait for the stage lock until the first commits', () =>
    withStores(2, async ([a, b]) => {
      const r1 = release('2.4.0');
      const r2 = release('2.5.0');
      await a!.transaction(async (tx) => {
        await tx.insertPolicy(policyInput());
        await tx.insertRelease(r1);
        await tx.insertRelease(r2);
      });

      const order: string[] = [];
      let aLocked!: () => void;
      const aHasLock = new Promise<void>((resolve) => (aLocked = resolve));
      const first = a!.transaction(async (tx) => {
        await tx.lockStage('fraud-detector', 'production');
        order.push('a locked production');
        aLocked();
        await sleep(400);
        await tx.insertPromotion(promotion(r1, 'p-a'));
        order.push('a commits');
      });
      await aHasLock;
      // Another stage of the same subject is not held up by A's lock…
      const other = b!.transaction(async (tx) => {
        await tx.lockStage('fraud-detector', 'staging');
        order.push('b locked staging');
      });
      // …but the same stage is, and once B has it, A's promotion is there to see.
      const second = b!.transaction(async (tx) => {
        await tx.lockStage('fraud-detector', 'production');
        order.push('b locked production');
        const holder = await tx.stageHolder('fraud-detector', 'production');
        await tx.insertPromotion(promotion(r2, 'p-b', holder ? { previousVersion: holder.version } : {}));
        return holder;
      });
      const [, , holderSeenByB] = await Promise.all([first, other, second]);
      expect(order).toEqual(['a locked production', 'b locked staging', 'a commits', 'b locked production']);
      expect(holderSeenByB?.id).toBe('p-a');
      expect((await a!.promotions()).map((p) => [p.id, p.previousVersion])).toEqual([
        ['p-a', undefined],
        ['p-b', '2.4.0'],
      ]);
    }));

  it('moves its change marker when another process commits, for every caller that asks after', () =>
    withStores(2, async ([a, b]) => {
      const before = await a!.changeMarker();
      expect(before).toEqual(expect.any(String));
      expect(await a!.changeMarker()).toBe(before);
      await b!.transaction((tx) => tx.appendAudit({ at: at(0), actor: 'system', type: 'PolicyApplied', data: {} }));
      // Many at once share the round trips, and none gets an answer from before the commit.
      const markers = await Promise.all(Array.from({ length: 50 }, () => a!.changeMarker()));
      expect(new Set(markers).size).toBe(1);
      expect(markers[0]).not.toBe(before);
      // Its own commits move it too, at once.
      await a!.transaction((tx) => tx.appendAudit({ at: at(1), actor: 'system', type: 'ReleaseCreated', data: {} }));
      expect(await a!.changeMarker()).not.toBe(markers[0]);
      // Inside a transaction there is no marker: nothing read there may be cached.
      expect(await a!.transaction(async () => a!.changeMarker().catch(() => 'refused'))).not.toEqual(expect.stringMatching(/^\d/));
    }));

  it('moves its change marker when a row is changed behind its back, not only when Tollgate commits', () =>
    withStores(1, async ([store], schema) => {
      await store!.transaction((tx) => tx.insertPolicy(policyInput()));
      const before = await store!.changeMarker();
      // As someone with the database's password would: an UPDATE from another session, no audit event.
      await admin.query(`update ${pg.escapeIdentifier(schema)}.policies set applied_by = 'mallory'`);
      const after = await store!.changeMarker();
      expect(after).not.toBe(before);
      await admin.query(`delete from ${pg.escapeIdentifier(schema)}.audit_checkpoints`);
      expect(await store!.changeMarker()).not.toBe(after);
    }));

  it('returns integer columns as JS numbers', () =>
    withStores(1, async ([store]) => {
      const bytes = new TextEncoder().encode('size me');
      const policy = await store!.transaction(async (tx) => {
        await tx.putBlob(digestBytes(bytes), bytes);
        await tx.appendAudit({ at: at(0), actor: 'system', type: 'PolicyApplied', data: {} });
        await tx.putCheckpoint({ size: 1, head: 'ab'.repeat(32), at: at(0), signature: 's', keyId: 'k', root: '', note: '', frontier: [] });
        return tx.insertPolicy(policyInput());
      });
      expect(policy.version).toBe(1);
      expect((await store!.activePolicy())?.version).toBe(1);
      expect((await store!.auditEvents())[0]?.seq).toBe(1);
      expect(await store!.auditHead()).toMatchObject({ size: 1 });
      expect((await store!.latestCheckpoint())?.size).toBe(1);
    }));

  it('closes every connection of its pool on close()', async () => {
    const name = `tollgate_test_${randomUUID().slice(0, 8)}`;
    const named = new URL(databaseUrl);
    named.searchParams.set('application_name', name);
    const store = await createPostgresStore(named.href, { schema: freshSchema(), poolSize: 3 });
    const connections = async (): Promise<number> =>
      (await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where application_name = $1', [name])).rows[0]!.n;
    await Promise.all(Array.from({ length: 6 }, () => store.transaction(async () => sleep(50))));
    expect(await connections()).toBeGreaterThan(0);
    await store.close();
    // The server notices a closed connection a moment after the client has gone.
    for (let i = 0; i < 50 && (await connections()) > 0; i++) await sleep(20);
    expect(await connections()).toBe(0);
  });

  it('refuses bad options before connecting', async () => {
    await expect(createPostgresStore(databaseUrl, { schema: '' })).rejects.toThrow(/schema/);
    await expect(createPostgresStore(databaseUrl, { poolSize: 0 })).rejects.toThrow(/poolSize/);
  });
});

// ------------------------------------------------------------------------------------- fixtures

const T0 = Date.UTC(2026, 0, 1);
const at = (n: number): string => new Date(T0 + n * 60_000).toISOString();
/** Every migration, each applied exactly once. */
const migrationNames = async (): Promise<string[]> => Object.keys(await createMigrationProvider('postgres').getMigrations()).sort();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const tick = (): Promise<void> => sleep(1);

const POLICY: Policy = {
  apiVersion: 'tollgate/v1',
  kind: 'Policy',
  name: 'fraud-platform',
  roster: { alice: { roles: ['ml-engineer'], key: 'ed25519:AAAA' } },
  stages: [{ name: 'staging' }, { name: 'production', after: 'staging' }],
  gates: [],
};

function policyInput() {
  return { digest: digestOf(POLICY), name: POLICY.name, policy: POLICY, source: `name: ${POLICY.name}\n`, appliedAt: at(0), appliedBy: 'alice' };
}

function release(version: string): Release {
  const manifest: ReleaseManifest = {
    subject: 'fraud-detector',
    version,
    risk: 'high',
    owner: 'alice',
    artifacts: [{ name: 'model', kind: 'model', path: 'model/model.onnx', sha256: 'a'.repeat(64), size: 12 }],
  };
  return { subject: manifest.subject, version, digest: digestOf(manifest), manifest, createdAt: at(1), createdBy: 'alice' };
}

function promotion(r: Release, id: string, extra: Partial<Promotion> = {}): Promotion {
  return {
    id,
    subject: r.subject,
    stage: 'production',
    version: r.version,
    releaseDigest: r.digest,
    policyVersion: 1,
    policyDigest: digestOf(POLICY),
    kind: 'promotion',
    by: 'bob',
    at: at(40),
    ...extra,
  };
}
