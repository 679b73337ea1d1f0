import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from './events.js';
import { leafHash, rootFromLeafHashes } from './merkle.js';
import { auditLeafHash, extendFrontier, frontierRoot, openCheckpoint, signCheckpointNote } from './tree.js';

// Hashed inside each test: nothing under test runs while the file is collected (note.test.ts).
const leaves = (): Buffer[] => Array.from({ length: 130 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));

describe('the incremental tree (frontier)', () => {
  it('has the RFC 9162 root for every size from 0 to 130, however the leaves() arrive', () => {
    let frontier: Buffer[] = [];
    for (let n = 0; n <= leaves().length; n++) {
      expect(frontierRoot(frontier).equals(rootFromLeafHashes(leaves().slice(0, n))), `size ${n}`).toBe(true);
      if (n < leaves().length) frontier = extendFrontier(frontier, n, [leaves()[n]!]);
    }
    // In uneven batches, as transactions append them.
    let batched: Buffer[] = [];
    let size = 0;
    for (const batch of [1, 2, 3, 5, 8, 13, 21, 34, 43]) {
      batched = extendFrontier(batched, size, leaves().slice(size, size + batch));
      size += batch;
      expect(frontierRoot(batched).equals(rootFromLeafHashes(leaves().slice(0, size)))).toBe(true);
    }
    // One subtree root per 1 bit of the size.
    expect(batched.length).toBe(size.toString(2).replace(/0/g, '').length);
  });

  it('hashes an event as the canonical JSON of all its fields', () => {
    const e: AuditEvent = { seq: 1, at: 't', actor: 'user:a', type: 'X', data: { b: 1, a: 2 }, prev: '0', hash: 'h' };
    expect(auditLeafHash(e).equals(auditLeafHash({ ...e, data: { a: 2, b: 1 } }))).toBe(true);
    expect(auditLeafHash(e).equals(auditLeafHash({ ...e, hash: 'g' }))).toBe(false);
  });
});

describe('checkpoint notes', () => {
  const server = generateKeyPairSync('ed25519');
  // Signed inside each test: nothing under test runs while the file is collected (see note.test.ts).
  const signed = () => signCheckpointNote({ origin: 'tollgate/test', size: 130, root: rootFromLeafHashes(leaves()), at: '2026-11-30T00:00:00Z', head: 'ab', key: server.privateKey });

  it('opens with the server key and carries size, root, time and head', () => {
    const opened = openCheckpoint(signed(), server.publicKey);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(opened.checkpoint.size).toBe(130);
    expect(Buffer.from(opened.checkpoint.rootHash).equals(rootFromLeafHashes(leaves()))).toBe(true);
    expect(opened.checkpoint.extensions).toEqual(['time 2026-11-30T00:00:00Z', 'head ab']);
  });

  it('does not open with another key, or after an edit', () => {
    const note = signed();
    expect(openCheckpoint(note, generateKeyPairSync('ed25519').publicKey).ok).toBe(false);
    expect(openCheckpoint(note.replace('\n130\n', '\n131\n'), server.publicKey).ok).toBe(false);
    expect(openCheckpoint('not a note', server.publicKey)).toEqual({ ok: false, reason: 'the checkpoint has no signature line' });
    expect(openCheckpoint(note.replace('\n130\n', '\n131\n'), server.publicKey)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not verify|signature/) });
  });
});
