import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../sqlite-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-migrations-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function tables(file: string): string[] {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    return (db.prepare(`select name from sqlite_master where type = 'table' order by name`).all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('migrateToLatest', () => {
  it('migrates a new file, and opens an up-to-date one without running the migrator', async () => {
    const file = path.join(dir, 'tollgate.db');
    await (await createSqliteStore(file)).close();
    expect(tables(file)).toEqual(expect.arrayContaining(['kysely_migration', 'kysely_migration_lock', 'audit_events', 'policies']));

    // The migrator creates its lock table whenever it runs; an up-to-date file is only read.
    const db = new BetterSqlite3(file);
    db.exec('drop table kysely_migration_lock');
    db.close();
    const store = await createSqliteStore(file);
    expect(await store.auditHead()).toMatchObject({ size: 0 });
    await store.close();
    expect(tables(file)).not.toContain('kysely_migration_lock');
  });

  it('hands a file whose bookkeeping lacks a migration to the migrator, which runs and reports what fails', async () => {
    const file = path.join(dir, 'behind.db');
    await (await createSqliteStore(file)).close();
    const db = new BetterSqlite3(file);
    const last = db.prepare('select name from kysely_migration order by name desc limit 1').pluck().get() as string;
    // As if the file predated the last migration: its bookkeeping row and one of its effects gone.
    db.prepare('delete from kysely_migration where name = ?').run(last);
    db.exec('drop table kysely_migration_lock');
    db.close();
    await expect(createSqliteStore(file)).rejects.toThrow(/database migration .* failed/);
    expect(tables(file)).toContain('kysely_migration_lock');
  });
});
