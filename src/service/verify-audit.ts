import { createPublicKey, type KeyObject } from 'node:crypto';
import { checkpointMessage, verifyAuditLog } from '../audit/log.js';
import { consistencyProof, rootFromLeafHashes, verifyConsistency } from '../audit/merkle.js';
import { auditLeafHash, openCheckpoint } from '../audit/tree.js';
import { verifyBytes } from '../domain/keys.js';
import type { StoreReader } from '../store/store.js';

export interface AuditVerifyResult {
  readonly ok: boolean;
  readonly events: number;
  readonly head: string;
  /** RFC 9162 Merkle root of the whole log, hex. */
  readonly root?: string;
  readonly firstBad?: { readonly seq: number; readonly reason: string };
  /** With `since`: the saved checkpoint that the log was shown to extend. */
  readonly since?: { readonly size: number; readonly root: string };
}

export interface AuditVerifyOptions {
  /** A checkpoint note kept elsewhere: the log must extend it (nothing it covers rewritten or cut). */
  readonly since?: string;
  /** Public keys that may have signed `since` (the server's current and earlier keys). */
  readonly keys?: readonly KeyObject[];
}

/**
 * Checks the whole log: the hash chain, the newest checkpoint (its signature, its size and its Merkle
 * root against the events), and, given a checkpoint kept elsewhere, that the log extends it, by a
 * consistency proof from its size to now.
 */
export async function verifyAudit(store: StoreReader, serverKey: KeyObject, opts: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
  const publicKey = serverKey.type === 'private' ? createPublicKey(serverKey) : serverKey;
  const [events, checkpoint] = await Promise.all([store.auditEvents(), store.latestCheckpoint()]);
  const result = verifyAuditLog(events, checkpoint, (c) => verifyBytes(publicKey, checkpointMessage(c), c.signature));
  const fail = (seq: number, reason: string): AuditVerifyResult => ({ ...result, ok: false, firstBad: { seq, reason } });
  if (!result.ok) return result;

  const leaves = events.map(auditLeafHash);
  const root = rootFromLeafHashes(leaves);
  if (events.length > 0) {
    // Every change commits with a fresh checkpoint at its head, so a log without one, or with events
    // past the newest one, was written by something other than Tollgate.
    if (!checkpoint) return fail(events[0]!.seq, 'the log has events but no signed checkpoint: the checkpoints were deleted');
    if (checkpoint.size < events.length) {
      const extra = events[checkpoint.size]!;
      return fail(extra.seq, `event ${extra.seq} (${extra.type}) comes after the newest signed checkpoint (${checkpoint.size} events, ${checkpoint.at}): it was not written by Tollgate`);
    }
    const note = openCheckpoint(checkpoint.note, publicKey);
    if (!note.ok) return fail(checkpoint.size, `the newest checkpoint note does not verify with the server key: ${note.reason}`);
    if (note.checkpoint.size !== events.length || !root.equals(Buffer.from(note.checkpoint.rootHash))) {
      return fail(checkpoint.size, `the Merkle root of the ${events.length} events is not the one the newest checkpoint signs`);
    }
  }
  const out = { ...result, root: root.toString('hex') };
  if (opts.since === undefined) return out;

  // The saved checkpoint may predate a key rotation: any of the server's keys may have signed it.
  const keys = [publicKey, ...(opts.keys ?? [])];
  const opened = keys.map((k) => openCheckpoint(opts.since!, k)).find((o) => o.ok);
  if (!opened || !opened.ok) {
    return { ...out, ok: false, firstBad: { seq: 0, reason: 'the saved checkpoint is not signed by any of the server keys' } };
  }
  const saved = opened.checkpoint;
  const savedRoot = Buffer.from(saved.rootHash);
  if (saved.size > events.length) {
    return {
      ...out,
      ok: false,
      firstBad: { seq: events.length + 1, reason: `the log has ${events.length} events, fewer than the ${saved.size} of the saved checkpoint: it was truncated` },
    };
  }
  const proof = consistencyProof(saved.size, leaves);
  if (!verifyConsistency({ oldSize: saved.size, newSize: events.length, oldRoot: savedRoot, newRoot: root, proof })) {
    return {
      ...out,
      ok: false,
      firstBad: { seq: saved.size, reason: `the log does not extend the saved checkpoint (size ${saved.size}): events it covered were changed, removed or reordered` },
    };
  }
  return { ...out, since: { size: saved.size, root: savedRoot.toString('hex') } };
}
