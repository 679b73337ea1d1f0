import { createPublicKey, type KeyObject } from 'node:crypto';
import { checkpointMessage, verifyAuditLog } from '../audit/log.js';
import { verifyBytes } from '../domain/keys.js';
import type { StoreReader } from '../store/store.js';

export interface AuditVerifyResult {
  readonly ok: boolean;
  readonly events: number;
  readonly head: string;
  readonly firstBad?: { readonly seq: number; readonly reason: string };
}

/** Checks the whole hash-linked log against the newest checkpoint signed by the server key. */
export async function verifyAudit(store: StoreReader, serverKey: KeyObject): Promise<AuditVerifyResult> {
  const publicKey = serverKey.type === 'private' ? createPublicKey(serverKey) : serverKey;
  const [events, checkpoint] = await Promise.all([store.auditEvents(), store.latestCheckpoint()]);
  const result = verifyAuditLog(events, checkpoint, (c) => verifyBytes(publicKey, checkpointMessage(c), c.signature));
  if (!result.ok || events.length === 0) return result;
  // Every change commits with a fresh checkpoint at its head, so a log without one, or with events
  // past the newest one, was written by something other than Tollgate.
  if (!checkpoint) {
    return { ...result, ok: false, firstBad: { seq: events[0]!.seq, reason: 'the log has events but no signed checkpoint: the checkpoints were deleted' } };
  }
  if (checkpoint.size < events.length) {
    const extra = events[checkpoint.size]!;
    return {
      ...result,
      ok: false,
      firstBad: {
        seq: extra.seq,
        reason: `event ${extra.seq} (${extra.type}) comes after the newest signed checkpoint (${checkpoint.size} events, ${checkpoint.at}): it was not written by Tollgate`,
      },
    };
  }
  return result;
}
