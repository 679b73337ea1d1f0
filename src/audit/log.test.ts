import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditCheckpoint, AuditEvent } from './events.js';
import { canonicalJson, sha256Hex } from '../domain/digest.js';
import { GENESIS_HASH, canonicalEventTexts, checkpointMessage, createChainVerifier, eventHash, verifyAuditLog } from './log.js';
import { auditLeafHash } from './tree.js';

const TYPES = ['PolicyApplied', 'ReleaseCreated', 'ChecklistCompleted', 'ValidationRecorded', 'SignoffRecorded', 'ReleasePromoted'];

/** A valid chain of `n` events, built the way the store builds it. */
function chain(n: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = {
      seq,
      at: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
      actor: 'user:alice',
      type: TYPES[(seq - 1) % TYPES.length]!,
      data: { release: 'fraud-detector@2.4.0', n: seq },
      prev,
    };
    const e = { ...body, hash: eventHash(body) };
    events.push(e);
    prev = e.hash;
  }
  return events;
}

const server = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

function checkpointOf(events: AuditEvent[], key = server.privateKey): AuditCheckpoint {
  const c = { size: events.length, head: events.length ? events[events.length - 1]!.hash : GENESIS_HASH, at: '2026-01-02T00:00:00.000Z' };
  return { ...c, signature: sign(null, Buffer.from(checkpointMessage(c)), key).toString('base64'), keyId: 'server', root: '', note: '', frontier: [] };
}

const checkSignature = (c: AuditCheckpoint): boolean =>
  verify(null, Buffer.from(checkpointMessage(c)), server.publicKey, Buffer.from(c.signature, 'base64'));

/** Recomputes the hash after an edit, as a forger who knows the scheme would. */
function rehash(e: Omit<AuditEvent, 'hash'>): AuditEvent {
  return { ...e, hash: eventHash(e) };
}

describe('the start of the chain', () => {
  it('the first event links to 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });
});

describe('eventHash and checkpointMessage', () => {
  it('hash covers every field but itself, independent of key order', () => {
    const e = chain(1)[0]!;
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(eventHash({ prev: e.prev, data: e.data, type: e.type, actor: e.actor, at: e.at, seq: e.seq })).toBe(e.hash);
    for (const change of [{ seq: 2 }, { at: 'x' }, { actor: 'user:bob' }, { type: 'X' }, { data: {} }, { prev: e.hash }]) {
      expect(eventHash({ ...e, ...change })).not.toBe(e.hash);
    }
  });

  it('checkpoint message is the fixed line format', () => {
    expect(checkpointMessage({ size: 3, head: 'ab', at: '2026-01-01T00:00:00Z' })).toBe(
      'tollgate-audit-checkpoint/v1\n3\nab\n2026-01-01T00:00:00Z\n',
    );
  });
});

describe('canonicalEventTexts: one canonicalisation of data for the hash and the leaf', () => {
  // Built inside each test: nothing under test runs while the file is collected (note.test.ts says why).
  // Events as the store reads them, and as only a hand-edited row could make them (other types).
  const cases: { name: string; event: (base: AuditEvent) => object }[] = [
    { name: 'a plain event', event: (base) => base },
    { name: 'nested data with unsorted keys, arrays, numbers, null', event: (base) => ({ ...base, data: { z: [3, 1.5, -0, 1e21, null], a: { y: true, b: 'x' }, rows: [{ table: 't', key: 'k', digest: 'sha256:00' }] } }) },
    { name: 'empty data', event: (base) => ({ ...base, data: {} }) },
    { name: 'quotes, backslashes, control characters and non-ASCII in every string', event: (base) => ({ ...base, actor: 'user:"a\\b"\n', at: 'é\u2028😀', type: 'T\t"', prev: '\u0000', hash: 'h"\\', data: { 'ü': 'ß', '\u00e9': 1, e: 'é' } }) },
    { name: 'a seq that is not a safe integer', event: (base) => ({ ...base, seq: 2 ** 53 }) },
    { name: 'a seq written as text', event: (base) => ({ ...base, seq: '1' }) },
    { name: 'an actor that is a number', event: (base) => ({ ...base, actor: 7 }) },
    { name: 'a time that is null', event: (base) => ({ ...base, at: null }) },
    { name: 'an actor that is missing', event: (base) => ({ ...base, actor: undefined }) },
    { name: 'a time that is missing', event: (base) => ({ ...base, at: undefined }) },
    { name: 'a prev that is missing', event: (base) => ({ ...base, prev: undefined }) },
    { name: 'a type that is missing', event: (base) => ({ ...base, type: undefined }) },
    { name: 'a seq that is missing', event: (base) => ({ ...base, seq: undefined }) },
    { name: 'a prev that is a number', event: (base) => ({ ...base, prev: 5 }) },
    { name: 'a type that is a boolean', event: (base) => ({ ...base, type: false }) },
    { name: 'data that is null', event: (base) => ({ ...base, data: null }) },
    { name: 'data that is an array', event: (base) => ({ ...base, data: [2, 1] }) },
    { name: 'data that is missing', event: (base) => ({ ...base, data: undefined }) },
    { name: 'a hash that is missing', event: (base) => ({ ...base, hash: undefined }) },
  ];
  for (const c of cases) {
    it(`is canonicalJson's own text for ${c.name}`, () => {
      const e = c.event(chain(1)[0]!) as unknown as AuditEvent;
      const fields = { seq: e.seq, at: e.at, actor: e.actor, type: e.type, data: e.data, prev: e.prev };
      const texts = canonicalEventTexts(e);
      expect(texts.unhashed).toBe(canonicalJson(fields));
      expect(texts.hashed).toBe(canonicalJson({ ...fields, hash: e.hash }));
      expect(sha256Hex(texts.unhashed)).toBe(eventHash(e));
      expect(canonicalEventTexts(e, false)).toEqual({ unhashed: texts.unhashed });
    });
  }

  it('the chain check hands out each event\'s Merkle leaf, as auditLeafHash computes it', () => {
    const events = chain(25);
    const verifier = createChainVerifier();
    expect(verifier.push(events.slice(0, 10))).toBeUndefined();
    expect(verifier.leaves.map((l) => l.toString('hex'))).toEqual(events.slice(0, 10).map((e) => auditLeafHash(e).toString('hex')));
    expect(verifier.push(events.slice(10))).toBeUndefined();
    expect(verifier.leaves.map((l) => l.toString('hex'))).toEqual(events.slice(10).map((e) => auditLeafHash(e).toString('hex')));
  });
});

describe('verifyAuditLog', () => {
  it('accepts an empty log, with or without a checkpoint', () => {
    expect(verifyAuditLog([], undefined, checkSignature)).toEqual({ ok: true, events: 0, head: GENESIS_HASH });
    expect(verifyAuditLog([], checkpointOf([]), checkSignature)).toEqual({ ok: true, events: 0, head: GENESIS_HASH });
  });

  it('accepts an intact log, and events appended after the checkpoint', () => {
    const events = chain(10);
    expect(verifyAuditLog(events, checkpointOf(events), checkSignature)).toEqual({ ok: true, events: 10, head: events[9]!.hash });
    expect(verifyAuditLog(events, checkpointOf(events.slice(0, 6)), checkSignature).ok).toBe(true);
    expect(verifyAuditLog(events, undefined, checkSignature).ok).toBe(true);
  });

  const cases: Array<{ name: string; tamper: (e: AuditEvent[]) => AuditEvent[]; seq: number; reason: RegExp }> = [
    {
      name: 'an edited event',
      tamper: (e) => e.map((x) => (x.seq === 5 ? { ...x, data: { ...x.data, decision: 'approve' } } : x)),
      seq: 5,
      reason: /^event 5 \(SignoffRecorded\) was changed: its hash does not match its content$/,
    },
    {
      name: 'an edited event whose hash was recomputed',
      tamper: (e) => e.map((x) => (x.seq === 5 ? rehash({ ...x, actor: 'user:mallory' }) : x)),
      seq: 6,
      reason: /^event 6 \(ReleasePromoted\) does not link to event 5/,
    },
    {
      name: 'a deleted event in the middle',
      tamper: (e) => e.filter((x) => x.seq !== 4),
      seq: 4,
      reason: /^event 4 is missing: event 5 \(SignoffRecorded\) follows event 3, so it was deleted$/,
    },
    {
      name: 'several deleted events',
      tamper: (e) => e.filter((x) => x.seq < 3 || x.seq > 6),
      seq: 3,
      reason: /^events 3 to 6 are missing/,
    },
    {
      name: 'the first event deleted',
      tamper: (e) => e.slice(1),
      seq: 1,
      reason: /^event 1 is missing: the log starts at event 2 \(ReleaseCreated\)/,
    },
    {
      name: 'the first event deleted and the rest renumbered',
      tamper: (e) => e.slice(1).map((x) => rehash({ ...x, seq: x.seq - 1 })),
      seq: 1,
      reason: /^event 1 \(ReleaseCreated\) does not link to the start of the log/,
    },
    {
      name: 'a deleted event with the rest renumbered and rehashed',
      tamper: (e) => [...e.slice(0, 3), ...e.slice(4).map((x) => rehash({ ...x, seq: x.seq - 1 }))],
      seq: 4,
      reason: /^event 4 \(SignoffRecorded\) does not link to event 3/,
    },
    {
      name: 'two events swapped',
      tamper: (e) => [...e.slice(0, 3), e[4]!, e[3]!, ...e.slice(5)],
      seq: 4,
      reason: /^event 5 \(SignoffRecorded\) is out of order: event 4 should come here/,
    },
    {
      name: 'two events swapped with their numbers and hashes rewritten',
      tamper: (e) => [...e.slice(0, 3), rehash({ ...e[4]!, seq: 4 }), rehash({ ...e[3]!, seq: 5 }), ...e.slice(5)],
      seq: 4,
      reason: /^event 4 \(SignoffRecorded\) does not link to event 3/,
    },
    {
      name: 'the last event deleted (caught by the checkpoint)',
      tamper: (e) => e.slice(0, -1),
      seq: 10,
      reason: /^the log ends at event 9 but the checkpoint signed at .* covers 10 events: the log was truncated, event 10 was deleted$/,
    },
    {
      name: 'the last event replaced by a valid-looking one (caught by the checkpoint head)',
      tamper: (e) => [...e.slice(0, -1), rehash({ ...e[9]!, data: { forged: true } })],
      seq: 10,
      reason: /^event 10 has another hash than the checkpoint signed at .* records/,
    },
  ];

  for (const c of cases) {
    it(`detects ${c.name}`, () => {
      const events = chain(10);
      const result = verifyAuditLog(c.tamper(events), checkpointOf(events), checkSignature);
      expect(result.ok).toBe(false);
      expect(result.firstBad?.seq).toBe(c.seq);
      expect(result.firstBad?.reason).toMatch(c.reason);
    });
  }

  it('detects a checkpoint whose signature does not verify', () => {
    const events = chain(4);
    const forged = checkpointOf(events, other.privateKey);
    const result = verifyAuditLog(events, forged, checkSignature);
    expect(result).toMatchObject({ ok: false, events: 4, firstBad: { seq: 4 } });
    expect(result.firstBad?.reason).toMatch(/signature that does not verify/);

    const edited = { ...checkpointOf(events), size: 3, head: events[2]!.hash };
    expect(verifyAuditLog(events, edited, checkSignature).ok).toBe(false);
  });

  it('treats a signature check that throws as a bad signature', () => {
    const events = chain(2);
    const result = verifyAuditLog(events, { ...checkpointOf(events), signature: '!!' }, () => {
      throw new Error('bad base64');
    });
    expect(result.ok).toBe(false);
    expect(result.firstBad?.reason).toMatch(/does not verify/);
  });

  it('names every event a truncation removed', () => {
    const events = chain(10);
    const result = verifyAuditLog(events.slice(0, 6), checkpointOf(events), checkSignature);
    expect(result.firstBad).toEqual({ seq: 7, reason: expect.stringMatching(/events 7 to 10 were deleted$/) });
  });

  it('a forged checkpoint cannot hide a truncation', () => {
    const events = chain(10);
    const truncated = events.slice(0, 7);
    // The attacker can write a checkpoint row, but cannot sign it with the server key.
    const result = verifyAuditLog(truncated, checkpointOf(truncated, other.privateKey), checkSignature);
    expect(result.ok).toBe(false);
  });
});
