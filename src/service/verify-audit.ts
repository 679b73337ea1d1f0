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
  return verifyAuditLog(events, checkpoint, (c) => verifyBytes(publicKey, checkpointMessage(c), c.signature));
}
