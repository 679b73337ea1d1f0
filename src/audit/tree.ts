/**
 * The audit log as a Merkle tree (RFC 9162): each event is a leaf, and the server signs checkpoints
 * of the tree in the signed-note form. The tree is kept incrementally as its frontier (the roots of
 * the perfect subtrees that make it up, largest first), so a checkpoint costs O(log n), not a pass
 * over the whole log.
 */
import type { KeyObject } from 'node:crypto';
import { canonicalEventJson } from './log.js';
import type { AuditEvent } from './events.js';
import { emptyRoot, leafHash, nodeHash } from './merkle.js';
import { formatCheckpointBody, openNote, signNote, type Checkpoint } from './note.js';

/** The name the server's key signs checkpoints under (the signature line of the note). */
export const SERVER_KEY_NAME = 'tollgate-server';

/** A leaf is the canonical JSON of the whole event, its hash-chain fields included. */
export function auditLeafHash(e: AuditEvent): Buffer {
  return leafHash(Buffer.from(canonicalEventJson(e, true), 'utf8'));
}

/** Appends leaf hashes to a frontier of a tree of `size` leaves; returns the new frontier. */
export function extendFrontier(frontier: readonly Buffer[], size: number, leaves: readonly Buffer[]): Buffer[] {
  const out = [...frontier];
  let n = size;
  for (const leaf of leaves) {
    let node = leaf;
    // Each trailing 1 bit of the size is a full subtree of the same height: merge with it.
    // (Arithmetic, not bit operators: those are 32-bit in JavaScript.)
    for (let s = n; s % 2 === 1; s = Math.floor(s / 2)) node = Buffer.from(nodeHash(out.pop()!, node));
    out.push(node);
    n++;
  }
  return out;
}

/** The RFC 9162 root of the tree a frontier describes (SHA-256 of nothing for the empty tree). */
export function frontierRoot(frontier: readonly Buffer[]): Buffer {
  if (frontier.length === 0) return emptyRoot();
  let root = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) root = Buffer.from(nodeHash(frontier[i]!, root));
  return root;
}

/** A signed checkpoint note: origin, size, base64 root, and the time and chain head as extensions. */
export function signCheckpointNote(opts: { origin: string; size: number; root: Buffer; at: string; head: string; key: KeyObject }): string {
  const body = formatCheckpointBody({ origin: opts.origin, size: opts.size, rootHash: opts.root, extensions: [`time ${opts.at}`, `head ${opts.head}`] });
  return signNote(body, { name: SERVER_KEY_NAME, privateKey: opts.key });
}

export type OpenedCheckpoint = { ok: true; checkpoint: Checkpoint } | { ok: false; reason: string };

/** Opens a checkpoint note with one public key, whatever name its signature line uses. */
export function openCheckpoint(note: string, publicKey: KeyObject): OpenedCheckpoint {
  const names = [...note.matchAll(/^\u2014 (\S+) /gm)].map((m) => m[1]!);
  if (names.length === 0) return { ok: false, reason: 'the checkpoint has no signature line' };
  const opened = openNote(note, [...new Set(names)].map((name) => ({ name, publicKey })));
  return opened.ok ? { ok: true, checkpoint: opened.checkpoint } : { ok: false, reason: opened.message };
}
