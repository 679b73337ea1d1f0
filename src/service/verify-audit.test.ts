// `audit verify`'s check of the stored Merkle tree (audit_nodes), on a real SQLite file edited behind
// the store's back: each page's leaves are read as one range and compared with the leaf hashes the
// chain check computes, and only leaves past the log's end are counted afterwards; whatever the page
// size, a changed, missing or extra node is named.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../domain/keys.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { applyPolicy } from './apply-policy.js';
import { createRelease } from './create-release.js';
import type { ServiceDeps } from './deps.js';
import { verifyAudit } from './verify-audit.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const alice = generateKeyPair();
const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: tree
roster:
  alice: { roles: [ml-engineer], key: "${alice.publicKey}" }
stages:
  - name: staging
gates:
  - id: readiness
    stage: staging
    checklist:
      - { id: alerts-tested }
`;

/** A log of 13 events (a policy and 12 releases) in a file, and a way to edit the file directly. */
async function logOf13() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-verify-tree-'));
  dirs.push(dir);
  const file = path.join(dir, 'tollgate.db');
  const store = await createSqliteStore(file);
  const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => new Date('2026-11-30T12:00:00Z') };
  await applyPolicy(deps, 'alice', POLICY, 'tollgate.yaml');
  for (let i = 0; i < 12; i++) {
    await createRelease(deps, 'alice', { subject: 'svc', version: `1.${i}.0`, risk: 'low', owner: 'alice', artifacts: [{ name: 'model', kind: 'model', sha256: String(i).padStart(64, 'a') }] });
  }
  await store.close();
  const edit = (sql: string, ...params: unknown[]) => {
    const db = new Database(file);
    try {
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };
  const verify = async (pageSize: number) => {
    const reopened = await createSqliteStore(file);
    try {
      return await verifyAudit(reopened, deps.serverKey, { pageSize });
    } finally {
      await reopened.close();
    }
  };
  return { edit, verify };
}

const PAGE_SIZES = [1, 4, 13, 2000];

describe('audit verify: the stored Merkle tree', () => {
  it('accepts the untouched tree at every page size', async () => {
    const log = await logOf13();
    for (const pageSize of PAGE_SIZES) expect(await log.verify(pageSize), `page size ${pageSize}`).toMatchObject({ ok: true, events: 13 });
  });

  const cases: { name: string; sql: string; params: unknown[]; seq: number; reason: RegExp }[] = [
    { name: 'a changed leaf', sql: 'update audit_nodes set hash = zeroblob(32) where level = 0 and idx = 5', params: [], seq: 6, reason: /stored Merkle leaf of event 6 \(ReleaseCreated\) is not the event's hash/ },
    { name: 'a missing leaf', sql: 'delete from audit_nodes where level = 0 and idx = 12', params: [], seq: 13, reason: /stored Merkle leaf of event 13 \(ReleaseCreated\)/ },
    { name: 'a leaf past the end of the log', sql: 'insert into audit_nodes (level, idx, hash) values (0, 13, zeroblob(32))', params: [], seq: 14, reason: /holds 14 leaves for a log of 13 events/ },
    { name: 'a changed subtree', sql: 'update audit_nodes set hash = zeroblob(32) where level = 1 and idx = 2', params: [], seq: 5, reason: /audit_nodes 1\/2 \(the subtree from event 5\) is missing or not the hash of its children/ },
    { name: 'a missing subtree', sql: 'delete from audit_nodes where level = 2 and idx = 1', params: [], seq: 5, reason: /audit_nodes 2\/1 \(the subtree from event 5\) is missing/ },
    { name: 'a subtree a log of 13 events does not have', sql: 'insert into audit_nodes (level, idx, hash) values (1, 6, zeroblob(32))', params: [], seq: 1, reason: /holds a subtree 1\/6 that a log of 13 events does not have/ },
  ];
  for (const c of cases) {
    it(`names ${c.name}, at every page size`, async () => {
      const log = await logOf13();
      log.edit(c.sql, ...c.params);
      for (const pageSize of PAGE_SIZES) {
        const result = await log.verify(pageSize);
        expect(result.ok, `page size ${pageSize}`).toBe(false);
        expect(result.firstBad?.seq, `page size ${pageSize}`).toBe(c.seq);
        expect(result.firstBad?.reason, `page size ${pageSize}`).toMatch(c.reason);
      }
    });
  }
});
