/**
 * Every state change goes through `change`: one transaction that holds the change, its audit events
 * and a fresh checkpoint signed by the server key, so the log's head is vouched for and a deleted
 * last event is caught (DESIGN.md rule 5).
 */
import { createPublicKey } from 'node:crypto';
import { checkpointMessage } from '../audit/log.js';
import { digestBytes } from '../domain/digest.js';
import { formatPublicKey, signBytes } from '../domain/keys.js';
import type { AuditEvent, StoreTx } from '../store/store.js';
import type { ServiceDeps } from './deps.js';

export interface ChangeScope {
  readonly tx: StoreTx;
  readonly at: string;
  readonly now: Date;
  /** Appends an audit event in this transaction. */
  audit(type: string, actor: string, data: Record<string, unknown>): Promise<AuditEvent>;
}

export async function change<T>(deps: ServiceDeps, fn: (scope: ChangeScope) => Promise<T>): Promise<T> {
  return deps.store.transaction(async (tx) => {
    const now = deps.now();
    const at = now.toISOString();
    let appended = false;
    const scope: ChangeScope = {
      tx,
      at,
      now,
      audit: async (type, actor, data) => {
        appended = true;
        return tx.appendAudit({ type, actor, at, data });
      },
    };
    const result = await fn(scope);
    if (appended) {
      const head = await tx.auditHead();
      const body = { size: head.size, head: head.head, at };
      await tx.putCheckpoint({
        ...body,
        signature: signBytes(deps.serverKey, checkpointMessage(body)),
        keyId: serverKeyId(deps),
      });
    }
    return result;
  });
}

/** A short stable name for the server key: the digest of its public key. */
export function serverKeyId(deps: ServiceDeps): string {
  return digestBytes(formatPublicKey(createPublicKey(deps.serverKey))).slice(0, 'sha256:'.length + 16);
}
