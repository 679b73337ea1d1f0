import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../src/audit/log.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';
import { runStoreSuite } from './store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
const freshFile = (): string => join(dir, `store-${++files}.db`);

runStoreSuite('sqlite file', () => createSqliteStore(freshFile()));
runStoreSuite('sqlite :memory:', () => createSqliteStore(':memory:'));

describe('SQLite store', () => {
  it('keeps its data across close and reopen, and migrates only once', async () => {
    const file = freshFile();
    const first = await createSqliteStore(file);
    await first.transaction(async (tx) => {
      await tx.appendAudit({ at: '2026-01-01T00:00:00.000Z', actor: 'user:alice', type: 'PolicyApplied', data: { version: 1 } });
      await tx.putBlob('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824', new TextEncoder().encode('hello'));
    });
    await first.close();

    const second = await createSqliteStore(file);
    expect(second.dialect).toBe('sqlite');
    expect(await second.auditHead()).toMatchObject({ size: 1 });
    await second.transaction((tx) =>
      tx.appendAudit({ at: '2026-01-01T00:01:00.000Z', actor: 'user:bob', type: 'ReleaseCreated', data: {} }),
    );
    await second.close();

    const third = await createSqliteStore(file);
    const events = await third.auditEvents();
    expect(events.map((e) => e.type)).toEqual(['PolicyApplied', 'ReleaseCreated']);
    expect(verifyAuditLog(events, undefined, () => true).ok).toBe(true);
    expect(new TextDecoder().decode(await third.blob('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'))).toBe('hello');
    await third.close();
  });

  it('opens the file in WAL mode, with foreign keys and the migrations recorded', async () => {
    const file = freshFile();
    await (await createSqliteStore(file)).close();
    const raw = new BetterSqlite3(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      const migrations = raw.prepare('select name from kysely_migration order by name').all();
      expect(migrations).toEqual([{ name: '0001-initial' }, { name: '0002-tokens' }, { name: '0003-webhooks' }, { name: '0004-signoff-signature' }, { name: '0005-vouched-state' }, { name: '0006-passkeys' }, { name: '0007-stage-holds' }, { name: '0008-incidents' }, { name: '0009-break-glass' }, { name: '0010-handoffs' }, { name: '0011-webhook-format' }]);
    } finally {
      raw.close();
    }
  });

  it('waits for another process that holds the write lock, instead of failing with SQLITE_BUSY', async () => {
    const file = freshFile();
    const store = await createSqliteStore(file);
    try {
      // Another process (a second CLI run) takes the write lock and keeps it for a while.
      const betterSqlite3Path = createRequire(import.meta.url).resolve('better-sqlite3');
      const child = spawn(
        process.execPath,
        [
          '-e',
          `const D = require(${JSON.stringify(betterSqlite3Path)});
           const db = new D(${JSON.stringify(file)});
           db.exec('begin immediate');
           db.prepare("insert into audit_checkpoints (size, head, at, signature, key_id, root, note, frontier_json) values (0, 'x', 'y', 'z', 'other-process', '', '', '[]')").run();
           console.log('locked');
           setTimeout(() => { db.exec('commit'); db.close(); }, 700);`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
      });

      const started = Date.now();
      const e = await store.transaction((tx) =>
        tx.appendAudit({ at: '2026-01-01T00:00:00.000Z', actor: 'user:alice', type: 'PolicyApplied', data: {} }),
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(300);
      expect(e.seq).toBe(1);
      expect(await exited).toBe(0);
      // The other process's write committed first, and ours after it.
      expect((await store.latestCheckpoint())?.keyId).toBe('other-process');
    } finally {
      await store.close();
    }
  });

  it('rolls a failed transaction back on disk too', async () => {
    const file = freshFile();
    const store = await createSqliteStore(file);
    await expect(
      store.transaction(async (tx) => {
        await tx.appendAudit({ at: '2026-01-01T00:00:00.000Z', actor: 'system', type: 'PolicyApplied', data: {} });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await store.close();
    const reopened = await createSqliteStore(file);
    expect(await reopened.auditEvents()).toEqual([]);
    await reopened.close();
  });
});
