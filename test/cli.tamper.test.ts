/**
 * Acceptance, end to end through the real binary: a sign-off row forged in the database (any field
 * changed, or a row inserted by hand, even one signed with the roster key) is refused by every
 * decision (exit 4, TG_STATE_TAMPERED naming the row: the audit log does not vouch for it), and
 * `audit verify` exits 4 after any edit or deletion of an audit row, naming the row. One good state
 * is built through the CLI; each tampering happens on a copy of it (home and database), edited
 * directly with better-sqlite3.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, createPrivateKey, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProject, removeProjects, type Project } from './helpers/cli.js';

const canonicalize = createRequire(import.meta.url)('canonicalize') as (value: unknown) => string;

const REL = 'fraud-detector@2.4.0';
const OTHER = 'fraud-detector@2.5.0';
const REQ = 'signoff:ml-engineer';

let base: Project; // bob's genuine sign-off recorded: staging is promotable
let unsigned: Project; // the same, before any sign-off
let relDigest: string;
let otherDigest: string;
let gateDigest: string;

afterAll(() => removeProjects());

beforeAll(() => {
  base = createProject();
  base.write('release-2.5.0.yaml', base.read('release.yaml').replace('version: 2.4.0', 'version: 2.5.0'));
  const a = base.run(['release', 'create', 'release.yaml', '--as', 'alice', '--json']);
  const b = base.run(['release', 'create', 'release-2.5.0.yaml', '--as', 'alice', '--json']);
  if (a.code !== 0 || b.code !== 0) throw new Error(`release create failed: ${a.stderr}${b.stderr}`);
  relDigest = a.json().digest;
  otherDigest = b.json().digest;
  // Staging needs the two checklist items and the validations (done here) and one sign-off by an
  // ml-engineer who is not alice.
  for (const args of [
    ['check', REL, 'datasets-listed', '--to', 'staging', '--evidence', 'data/datasets.md', '--as', 'alice'],
    ['check', REL, 'model-card', '--to', 'staging', '--as', 'alice'],
    ['validate', REL, '--to', 'staging', '--as', 'ci'],
  ]) {
    const r = base.run(args);
    if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  }
  const s = base.run(['status', REL, '--to', 'staging', '--json']);
  gateDigest = s.json().gates.find((g: any) => g.id === 'peer-review').digest;
  unsigned = base.clone();
  const so = base.run(['signoff', REL, '--to', 'staging', '--role', 'ml-engineer', '--as', 'bob', '--comment', 'reviewed the eval report']);
  if (so.code !== 0) throw new Error(`signoff failed: ${so.stderr}`);
}, 120_000);

function statusOf(p: Project, ref = REL): { code: number; req: any; d: any } {
  const r = p.run(['status', ref, '--to', 'staging', '--json']);
  const d = r.json();
  const req = d.gates.find((g: any) => g.id === 'peer-review').requirements.find((x: any) => x.id === REQ);
  return { code: r.code, req, d };
}

function edit(p: Project, fn: (db: import('better-sqlite3').Database) => void): Project {
  const copy = p.clone();
  const db = copy.openDb();
  try {
    fn(db);
  } finally {
    db.close();
  }
  return copy;
}

describe('sign-offs forged in the database do not count', () => {
  it('the untouched state (and an untouched copy of it) has bob\'s sign-off satisfied', () => {
    const here = statusOf(base);
    expect(here.code).toBe(0);
    expect(here.req.outcome).toBe('satisfied');
    expect(here.req.signers).toEqual(['bob']);
    const copy = statusOf(base.clone());
    expect(copy.code).toBe(0);
    expect(copy.req.outcome).toBe('satisfied');
  });

  const fieldEdits: { field: string; value: () => string | null; why: RegExp | null }[] = [
    { field: 'role', value: () => 'security', why: null }, // now a sign-off for a role the gate does not ask
    { field: 'decision', value: () => 'reject', why: /a sign-off as bob whose signature does not verify/ },
    { field: 'signer', value: () => 'alice', why: /a sign-off as alice whose signature does not verify/ },
    { field: 'at', value: () => new Date(Date.now() - 1000).toISOString(), why: /a sign-off as bob whose signature does not verify/ },
    { field: 'comment', value: () => 'approved without reading', why: /a sign-off as bob whose signature does not verify/ },
    { field: 'gate_digest', value: () => `sha256:${'ab'.repeat(32)}`, why: /a sign-off as bob whose signature does not verify/ },
    { field: 'signature', value: () => randomBytes(64).toString('base64'), why: /a sign-off as bob whose signature does not verify/ },
  ];

  /** `status` and `promote` on a tampered copy: both refuse with TG_STATE_TAMPERED naming the sign-off row. */
  function refused(copy: Project, ref = REL): void {
    const s = copy.run(['status', ref, '--to', 'staging', '--json']);
    expect(s.code).toBe(4);
    expect(s.json().error.code).toBe('TG_STATE_TAMPERED');
    expect(s.json().error.message).toMatch(/^signoffs \S+ is not what the audit log vouches for/);
    const p = copy.run(['promote', ref, '--to', 'staging', '--as', 'dave', '--json']);
    expect(p.code).toBe(4);
    expect(p.json().error.code).toBe('TG_STATE_TAMPERED');
    // Nothing was promoted: the release holds no stage (release list reads no evidence; release show,
    // which lists the evidence, refuses the forged row like every decision).
    expect(copy.run(['release', 'list', '--json']).json().releases.find((r: { release: string }) => r.release === ref).holds).toEqual([]);
    const shown = copy.run(['release', 'show', ref, '--json']);
    expect(shown.code).toBe(4);
    expect(shown.json().error.code).toBe('TG_STATE_TAMPERED');
  }

  for (const { field, value } of fieldEdits) {
    it(`changing the sign-off's ${field}: every decision refuses it (exit 4) and audit verify names the row`, () => {
      const copy = edit(base, (db) => {
        const n = db.prepare(`UPDATE signoffs SET "${field}" = ? WHERE signer = 'bob'`).run(value()).changes;
        expect(n).toBe(1);
      });
      refused(copy);
      const v = copy.run(['audit', 'verify', '--json']);
      expect(v.code).toBe(4);
      expect(v.json().rows.map((r: any) => [r.table, r.what])).toEqual([['signoffs', 'edited']]);
    });
  }

  it('moving the sign-off to another release\'s digest: that release\'s decisions refuse it; the one it was taken from lacks it', () => {
    const copy = edit(base, (db) => {
      expect(db.prepare("UPDATE signoffs SET release_digest = ? WHERE signer = 'bob'").run(otherDigest).changes).toBe(1);
    });
    refused(copy, OTHER);
    // The release it was taken from has no sign-off left to count (and nothing forged to refuse).
    const mine = statusOf(copy);
    expect(mine.code).toBe(3);
    expect(mine.req.outcome).toBe('missing');
  });

  it('the signature rule still holds on its own: a vouched row whose signature does not verify never counts (evaluate)', () => {
    // Rows cannot reach a decision without the log vouching for them; should one ever do, the
    // signature check of DESIGN.md rule 3 still stands behind it (src/domain/evaluate.test.ts tests it
    // directly). Here: the untouched state still verifies the genuine signature.
    const s = statusOf(base.clone());
    expect(s.req.reason).toMatch(/1 of 1 sign-off by ml-engineer: bob/);
  });
});

describe('sign-off rows inserted by hand are refused, even when signed by the roster key', () => {
  function insertSigned(p: Project, signer: string, key: KeyObject): Project {
    const payload = {
      type: 'tollgate/signoff/v1',
      release: REL,
      releaseDigest: relDigest,
      stage: 'staging',
      gate: 'peer-review',
      gateDigest,
      role: 'ml-engineer',
      decision: 'approve',
      signer,
      at: new Date().toISOString(),
      comment: 'inserted by hand',
    };
    const signature = sign(null, Buffer.from(canonicalize(payload)), key).toString('base64');
    return edit(p, (db) => {
      db.prepare(
        `INSERT INTO signoffs (id, type, release, release_digest, stage, gate, gate_digest, role, decision, signer, at, comment, signature)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        `forged-${signer}`,
        payload.type,
        payload.release,
        payload.releaseDigest,
        payload.stage,
        payload.gate,
        payload.gateDigest,
        payload.role,
        payload.decision,
        payload.signer,
        payload.at,
        payload.comment,
        signature,
      );
    });
  }

  function refusedInsert(copy: Project, signer: string): void {
    const s = copy.run(['status', REL, '--to', 'staging', '--json']);
    expect(s.code).toBe(4);
    expect(s.json().error.code).toBe('TG_STATE_TAMPERED');
    expect(s.json().error.message).toContain(`signoffs forged-${signer} is not what the audit log vouches for (inserted)`);
    const pr = copy.run(['promote', REL, '--to', 'staging', '--as', 'dave', '--json']);
    expect(pr.code).toBe(4);
    expect(pr.json().error.code).toBe('TG_STATE_TAMPERED');
    const v = copy.run(['audit', 'verify', '--json']);
    expect(v.code).toBe(4);
    expect(v.json().rows).toEqual([expect.objectContaining({ table: 'signoffs', key: `forged-${signer}`, what: 'inserted' })]);
  }

  it('a row signed with bob\'s own private key (the roster key), which the log does not vouch for', () => {
    const bobKey = createPrivateKey(fs.readFileSync(path.join(unsigned.home, 'demo-keys', 'bob.key'), 'utf8'));
    expect(statusOf(unsigned).req.outcome).toBe('missing');
    refusedInsert(insertSigned(unsigned, 'bob', bobKey), 'bob');
  });

  it('a row in bob\'s name signed by a fresh key not in the roster', () => {
    refusedInsert(insertSigned(unsigned, 'bob', generateKeyPairSync('ed25519').privateKey), 'bob');
  });

  it('a row by someone outside the roster, signed with their own key', () => {
    refusedInsert(insertSigned(unsigned, 'mallory', generateKeyPairSync('ed25519').privateKey), 'mallory');
  });
});

describe('audit verify detects any edit, deletion or reordering of the log', () => {
  interface Row {
    seq: number;
    at: string;
    actor: string;
    type: string;
    data_json: string;
    prev: string;
    hash: string;
  }
  let events: Row[];
  const hashOf = (e: Omit<Row, 'hash' | 'data_json'> & { data: unknown }): string =>
    createHash('sha256')
      .update(canonicalize({ seq: e.seq, at: e.at, actor: e.actor, type: e.type, data: e.data, prev: e.prev }))
      .digest('hex');

  beforeAll(() => {
    const db = base.openDb();
    events = db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Row[];
    db.close();
  });

  function verify(p: Project): { code: number; out: any } {
    const r = p.run(['audit', 'verify', '--json']);
    return { code: r.code, out: r.json() };
  }

  it('the untouched log verifies (exit 0) and our hash recomputation matches it', () => {
    // policy applied, two releases, two checklist items, five validation results, one sign-off
    expect(events.map((e) => e.type)).toEqual([
      'PolicyApplied',
      'ReleaseCreated',
      'ReleaseCreated',
      'ChecklistItemCompleted',
      'ChecklistItemCompleted',
      ...Array.from({ length: 5 }, () => 'ValidationRecorded'),
      'SignoffRecorded',
    ]);
    for (const e of events) expect(hashOf({ ...e, data: JSON.parse(e.data_json) })).toBe(e.hash);
    const v = verify(base.clone());
    expect(v.code).toBe(0);
    expect(v.out).toEqual({ ok: true, events: events.length, head: events.at(-1)!.hash, root: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  const cases: { name: string; tamper: (db: import('better-sqlite3').Database) => void; firstBad: () => number; reason: RegExp }[] = [
    {
      name: "editing an event's data",
      tamper: (db) => {
        const e = events[1]!;
        const data = JSON.parse(e.data_json);
        db.prepare('UPDATE audit_events SET data_json = ? WHERE seq = 2').run(JSON.stringify({ ...data, risk: 'low' }));
      },
      firstBad: () => 2,
      reason: /event 2 \(ReleaseCreated\) was changed/,
    },
    {
      name: "editing an event's actor",
      tamper: (db) => db.prepare("UPDATE audit_events SET actor = 'user:mallory' WHERE seq = 3").run(),
      firstBad: () => 3,
      reason: /event 3 \(ReleaseCreated\) was changed/,
    },
    {
      name: 'deleting a middle event',
      tamper: (db) => db.prepare('DELETE FROM audit_events WHERE seq = 3').run(),
      firstBad: () => 3,
      reason: /event 3 is missing/,
    },
    {
      name: 'deleting the last event',
      tamper: (db) => db.prepare('DELETE FROM audit_events WHERE seq = ?').run(events.length),
      firstBad: () => events.length,
      reason: /truncated/,
    },
    {
      name: 'swapping two events',
      tamper: (db) => {
        db.prepare('UPDATE audit_events SET seq = -1 WHERE seq = 4').run();
        db.prepare('UPDATE audit_events SET seq = 4 WHERE seq = 2').run();
        db.prepare('UPDATE audit_events SET seq = 2 WHERE seq = -1').run();
      },
      firstBad: () => 2,
      reason: /event 2 \(ChecklistItemCompleted\) was changed/,
    },
    {
      name: 'editing an event and recomputing its hash',
      tamper: (db) => {
        const e = events[1]!;
        const data = { ...JSON.parse(e.data_json), risk: 'low' };
        db.prepare('UPDATE audit_events SET data_json = ?, hash = ? WHERE seq = 2').run(canonicalize(data), hashOf({ ...e, data }));
      },
      firstBad: () => 3,
      reason: /event 3 \(ReleaseCreated\) does not link to event 2/,
    },
    {
      name: 'rewriting the last event with a recomputed hash',
      tamper: (db) => {
        const e = events.at(-1)!;
        const data = { ...JSON.parse(e.data_json), decision: 'approve', role: 'security' };
        db.prepare('UPDATE audit_events SET data_json = ?, hash = ? WHERE seq = ?').run(canonicalize(data), hashOf({ ...e, data }), e.seq);
      },
      firstBad: () => events.length,
      reason: /rewritten/,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: audit verify exits 4 with ok false and firstBad`, () => {
      const copy = edit(base, c.tamper);
      const v = verify(copy);
      expect(v.code).toBe(4);
      expect(v.out.ok).toBe(false);
      expect(v.out.firstBad.seq).toBe(c.firstBad());
      expect(v.out.firstBad.reason).toMatch(c.reason);
    });
  }

  it('the plain output names the first bad event, exit 4', () => {
    const copy = edit(base, (db) => db.prepare('DELETE FROM audit_events WHERE seq = 2').run());
    const r = copy.run(['audit', 'verify']);
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/audit log BROKEN at event 2: event 2 is missing/);
  });
});

/**
 * Every change writes its audit events and a checkpoint signed by the server key over the new head in
 * one transaction (src/service/change.ts), so a log whose head no checkpoint vouches for has been
 * tampered with. These two fail today: see the report (verifyAudit accepts a log with no checkpoint,
 * and events after the latest checkpoint).
 */
describe('audit verify: truncation and insertion that also touch the checkpoints', () => {
  it('deleting every checkpoint and the last event: audit verify exits 4', () => {
    const copy = edit(base, (db) => {
      db.prepare('DELETE FROM audit_checkpoints').run();
      db.prepare('DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events)').run();
    });
    const r = copy.run(['audit', 'verify', '--json']);
    expect(r.json().ok).toBe(false);
    expect(r.code).toBe(4);
  });

  it('appending a forged event that links correctly to the head: audit verify exits 4', () => {
    let appended = 0;
    const copy = edit(base, (db) => {
      const last = db.prepare('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
      const e = {
        seq: last.seq + 1,
        at: new Date().toISOString(),
        actor: 'user:carol',
        type: 'SignoffRecorded',
        data: { release: REL, stage: 'production', role: 'security', decision: 'approve' },
        prev: last.hash,
      };
      appended = e.seq;
      const hash = createHash('sha256').update(canonicalize(e)).digest('hex');
      db.prepare('INSERT INTO audit_events (seq, at, actor, type, data_json, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        e.seq,
        e.at,
        e.actor,
        e.type,
        canonicalize(e.data),
        e.prev,
        hash,
      );
    });
    const r = copy.run(['audit', 'verify', '--json']);
    expect(r.json().ok).toBe(false);
    expect(r.code).toBe(4);
    // The forged event is the first one no signed checkpoint vouches for.
    expect(r.json().firstBad.seq).toBe(appended);
  });
});
