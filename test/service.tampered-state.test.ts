// Holes the tamper suite (state.tamper.test.ts) found, each pinned by a focused test over a real
// SQLite file, written behind the store's back with a second connection as a forger would:
// - rollback and promote built on a stage holder and a history the log did not vouch for (a rollback
//   could put into a stage a release that never held it; a promote recorded a forged `previous`);
// - a stored JSON column that no longer parses failed decisions with a parser's error, and failed
//   `audit verify` itself for an event, instead of naming the row;
// - a Merkle subtree stored at a level (or index) the walk never reads passed `audit verify`, and so
//   did a blob kept under the empty string, and the newest checkpoint's key id, root and frontier
//   (which its signature does not cover; attest proves inclusion against the root, the next change
//   grows the tree from the frontier) and its signature with a character base64 decoding skips;
// - an attestation went out without a checklist evidence file that had been deleted.
import BetterSqlite3 from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, loadPrivateKey } from '../src/domain/keys.js';
import type { ReleaseManifest } from '../src/domain/model.js';
import { signSignoff } from '../src/domain/signoff.js';
import { applyPolicy } from '../src/service/apply-policy.js';
import { attest } from '../src/service/attest.js';
import { completeItem } from '../src/service/check.js';
import { createRelease } from '../src/service/create-release.js';
import type { ServiceDeps } from '../src/service/deps.js';
import { promote } from '../src/service/promote.js';
import { rollback } from '../src/service/rollback.js';
import { draftSignoffs, recordSignoffs } from '../src/service/signoff.js';
import { decide } from '../src/service/status.js';
import { verifyAudit } from '../src/service/verify-audit.js';
import { createSqliteStore } from '../src/store/sqlite-store.js';

const USERS = ['alice', 'bob', 'dave'] as const;
const KEYS = Object.fromEntries(USERS.map((u) => [u, generateKeyPair()])) as Record<(typeof USERS)[number], ReturnType<typeof generateKeyPair>>;
const POLICY = `apiVersion: tollgate/v1
kind: Policy
name: holders
roster:
  alice: { roles: [ml-engineer], key: "${KEYS.alice.publicKey}" }
  bob: { roles: [ml-engineer], key: "${KEYS.bob.publicKey}" }
  dave: { roles: [release-manager, admin], key: "${KEYS.dave.publicKey}" }
stages:
  - name: staging
gates:
  - id: readiness
    stage: staging
    checklist:
      - { id: runbook }
  - id: review
    stage: staging
    signoffs:
      - { role: ml-engineer, count: 1 }
`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const manifest = (version: string): ReleaseManifest => ({ subject: 'scorer', version, risk: 'low', owner: 'alice', artifacts: [{ name: 'model', kind: 'model', sha256: version.replace(/\./g, '').padEnd(64, 'a') }] });

/** 1.0.0 and 1.1.0 promoted to staging in turn (1.1.0 holds it, 1.0.0 before it); 1.2.0 registered and never promoted. */
async function home() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-holders-'));
  dirs.push(dir);
  const file = path.join(dir, 'tollgate.db');
  const store = await createSqliteStore(file);
  let clock = Date.parse('2026-11-30T12:00:00Z');
  const deps: ServiceDeps = { store, serverKey: loadPrivateKey(generateKeyPair().privateKeyPem), origin: 'tollgate/test', now: () => new Date((clock += 1000)) };
  await applyPolicy(deps, 'dave', POLICY, 'tollgate.yaml');
  for (const v of ['1.0.0', '1.1.0', '1.2.0']) await createRelease(deps, 'alice', manifest(v));
  for (const v of ['1.0.0', '1.1.0']) {
    await completeItem(deps, 'dave', { release: `scorer@${v}`, stage: 'staging', item: 'runbook', evidence: { kind: 'file', name: 'runbook.md', bytes: new TextEncoder().encode(`# runbook ${v}\n`) } });
    const draft = await draftSignoffs(store, 'bob', { release: `scorer@${v}`, stage: 'staging', role: 'ml-engineer', decision: 'approve' }, deps.now());
    await recordSignoffs(deps, 'bob', draft.payloads.map((p) => ({ ...p, signature: signSignoff(p, loadPrivateKey(KEYS.bob.privateKeyPem)) })));
    await promote(deps, 'dave', `scorer@${v}`, 'staging');
  }
  /** Runs `fn` on a second connection to the file: the forger's. */
  const forge = (fn: (db: BetterSqlite3.Database) => void) => {
    const db = new BetterSqlite3(file);
    try {
      db.pragma('foreign_keys = OFF');
      fn(db);
    } finally {
      db.close();
    }
  };
  return { store, deps, forge, close: () => store.close() };
}

describe('who holds a stage is vouched for before a change builds on it', () => {
  it('refuses a rollback whose holder names, as the release before it, one that never held the stage', async () => {
    const h = await home();
    h.forge((db) => void db.prepare("update promotions set previous_version = '1.2.0' where version = '1.1.0'").run());
    await expect(rollback(h.deps, 'dave', 'scorer', 'staging', 'bad')).rejects.toMatchObject({ code: 'TG_STATE_TAMPERED', message: expect.stringMatching(/^promotions \S+ is not what the audit log vouches for \(edited\)/) });
    expect((await h.store.stageHolder('scorer', 'staging'))?.version).toBe('1.1.0');
    await h.close();
  });

  it('refuses a rollback, a promotion and a status when the holder row is gone or names another promotion', async () => {
    const h = await home();
    h.forge((db) => void db.prepare("delete from stage_holders where subject = 'scorer'").run());
    const refused = { code: 'TG_STATE_TAMPERED', message: expect.stringMatching(/^stage_holders scorer\/staging is not what the audit log vouches for \(deleted\)/) };
    await expect(rollback(h.deps, 'dave', 'scorer', 'staging', 'bad')).rejects.toMatchObject(refused);
    await expect(promote(h.deps, 'dave', 'scorer@1.0.0', 'staging')).rejects.toMatchObject(refused);
    await expect(decide(h.store, 'scorer@1.0.0', 'staging', h.deps.now())).rejects.toMatchObject(refused);
    h.forge((db) => {
      db.prepare('insert into stage_holders select subject, stage, version, release_digest, id, audit_seq from promotions where version = ?').run('1.0.0');
    });
    await expect(rollback(h.deps, 'dave', 'scorer', 'staging', 'bad')).rejects.toMatchObject({ code: 'TG_STATE_TAMPERED', message: expect.stringMatching(/^stage_holders scorer\/staging .*\(edited\)/) });
    await h.close();
  });

  it('refuses a rollback when the promotion that brought the release it goes back to was deleted (it would record no `previous`)', async () => {
    const h = await home();
    h.forge((db) => void db.prepare("delete from promotions where version = '1.0.0'").run());
    await expect(rollback(h.deps, 'dave', 'scorer', 'staging', 'bad')).rejects.toMatchObject({ code: 'TG_STATE_TAMPERED', message: expect.stringMatching(/no promotion of that release into staging is on record: a promotion was deleted/) });
    expect((await h.store.stageHolder('scorer', 'staging'))?.version).toBe('1.1.0');
    await h.close();
  });

  it('refuses a promotion when the promotion that put the holder there was deleted (it would record a forged `previous`)', async () => {
    const h = await home();
    h.forge((db) => void db.prepare("delete from promotions where version = '1.1.0'").run());
    await expect(promote(h.deps, 'dave', 'scorer@1.0.0', 'staging')).rejects.toMatchObject({ code: 'TG_STATE_TAMPERED' });
    const v = await verifyAudit(h.store, h.deps.serverKey);
    expect(v.ok).toBe(false);
    expect(v.rows?.map((r) => [r.table, r.what])).toContainEqual(['promotions', 'deleted']);
    await h.close();
  });
});

describe('a stored JSON column that does not parse is a tampered row, not a crash', () => {
  it('refuses decisions naming the row, and audit verify names an event whose data is not JSON', async () => {
    const h = await home();
    h.forge((db) => void db.prepare("update checklist_completions set evidence_json = substr(evidence_json, 2) where evidence_json is not null").run());
    await expect(decide(h.store, 'scorer@1.0.0', 'staging', h.deps.now())).rejects.toMatchObject({ code: 'TG_STATE_TAMPERED', message: expect.stringMatching(/^checklist_completions \S+ is not what the audit log vouches for \(edited\): its evidence_json is not JSON/) });
    h.forge((db) => void db.prepare("update checklist_completions set evidence_json = '{' || evidence_json where evidence_json is not null").run());
    await expect(decide(h.store, 'scorer@1.0.0', 'staging', h.deps.now())).resolves.toMatchObject({ stage: 'staging' });

    const seq = (await h.store.auditEvents()).filter((e) => e.type === 'ReleaseCreated').at(-1)!.seq;
    h.forge((db) => void db.prepare('update audit_events set data_json = substr(data_json, 2) where seq = ?').run(seq));
    const v = await verifyAudit(h.store, h.deps.serverKey);
    expect(v).toMatchObject({ ok: false, firstBad: { seq } });
    // The release that event vouches for (1.2.0) is refused.
    await expect(decide(h.store, 'scorer@1.2.0', 'staging', h.deps.now())).rejects.toMatchObject({ code: 'TG_STATE_TAMPERED', message: expect.stringMatching(/^releases sha256:\S+ .*\(edited\): audit event \d+ \(ReleaseCreated\), which vouches for the row, was changed/) });
    await h.close();
  });
});

describe('audit verify: the stored Merkle tree holds nothing outside the tree of the log', () => {
  it.each([
    ['a subtree above the top level', 'insert into audit_nodes (level, idx, hash) values (20, 0, zeroblob(32))'],
    ['a leaf at a negative index', 'insert into audit_nodes (level, idx, hash) values (0, -1, zeroblob(32))'],
    ['a subtree at a negative level', 'insert into audit_nodes (level, idx, hash) values (-1, 0, zeroblob(32))'],
  ])('reports %s', async (_what, statement) => {
    const h = await home();
    expect((await verifyAudit(h.store, h.deps.serverKey)).ok).toBe(true);
    h.forge((db) => void db.prepare(statement).run());
    const v = await verifyAudit(h.store, h.deps.serverKey);
    expect(v.ok).toBe(false);
    expect(v.firstBad?.reason).toMatch(/^audit_nodes holds a subtree at level -?\d+.* that a log of \d+ events does not have/);
    await h.close();
  });
});

describe('audit verify: the newest checkpoint, beyond its signature', () => {
  it.each([
    ['its key id', "update audit_checkpoints set key_id = 'sha256:0000000000000000' where size = (select max(size) from audit_checkpoints)", /names key sha256:0000000000000000, not the server key/],
    ['its root', "update audit_checkpoints set root = replace(root, substr(root, 1, 1), 'x') where size = (select max(size) from audit_checkpoints)", /records root \S+, not the root of the log's tree/],
    ['its signature, with a character base64 decoding skips', "update audit_checkpoints set signature = signature || '!' where size = (select max(size) from audit_checkpoints)", /has a signature that does not verify/],
    ['its frontier', "update audit_checkpoints set frontier_json = '[]' where size = (select max(size) from audit_checkpoints)", /frontier, from which the next change grows the tree, is not the right edge/],
    ['its frontier, no longer JSON', "update audit_checkpoints set frontier_json = '[' where size = (select max(size) from audit_checkpoints)", /frontier, from which the next change grows the tree, is not the right edge/],
  ])('reports %s changed', async (_what, statement, reason) => {
    const h = await home();
    h.forge((db) => void db.prepare(statement).run());
    const v = await verifyAudit(h.store, h.deps.serverKey);
    expect(v.ok).toBe(false);
    expect(v.firstBad?.reason).toMatch(reason);
    await h.close();
  });
});

describe('audit verify: every blob', () => {
  it('reports a blob kept under the empty string (the first page of blobs starts before it)', async () => {
    const h = await home();
    h.forge((db) => void db.prepare("update blobs set digest = '' where content = ?").run(Buffer.from('# runbook 1.0.0\n')));
    const v = await verifyAudit(h.store, h.deps.serverKey);
    expect(v.ok).toBe(false);
    expect(v.rows?.map((r) => [r.table, r.key, r.what])).toContainEqual(['blobs', '', 'edited']);
    await h.close();
  });

  it('reports a blob kept under NULL (SQLite lets a text primary key be NULL)', async () => {
    const h = await home();
    h.forge((db) => void db.prepare('update blobs set digest = null where content = ?').run(Buffer.from('# runbook 1.0.0\n')));
    const v = await verifyAudit(h.store, h.deps.serverKey);
    expect(v.ok).toBe(false);
    expect(v.rows?.map((r) => [r.table, r.key, r.what])).toContainEqual(['blobs', 'null', 'edited']);
    await h.close();
  });
});

describe('attest', () => {
  it('refuses when a checklist evidence file of the promotion is gone (it is always kept with its completion)', async () => {
    const h = await home();
    await expect(attest(h.deps, 'scorer@1.1.0', 'staging')).resolves.toMatchObject({ payloadType: expect.any(String) });
    h.forge((db) => void db.prepare("delete from blobs where content = ?").run(Buffer.from('# runbook 1.1.0\n')));
    await expect(attest(h.deps, 'scorer@1.1.0', 'staging')).rejects.toMatchObject({ code: 'TG_STATE_TAMPERED', message: expect.stringMatching(/^blobs sha256:[0-9a-f]{64} is not what the audit log vouches for \(deleted\)/) });
    await h.close();
  });
});
