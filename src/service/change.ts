/**
 * Every state change goes through `change`: one transaction that holds the change, its audit events
 * and a fresh checkpoint signed by the server key, so the log's head is vouched for and a deleted
 * last event is caught (DESIGN.md rule 5).
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import type { Actor, AuditEventType } from '../audit/events.js';
import { checkpointMessage } from '../audit/log.js';
import { digestBytes } from '../domain/digest.js';
import { formatPublicKey, signBytes } from '../domain/keys.js';
import type { RowClaim } from '../domain/records.js';
import type { AuditEvent, StoreTx, Vouch } from '../store/store.js';
import { auditLeafHash, extendFrontier, frontierRoot, signCheckpointNote } from '../audit/tree.js';
import { deliveryPayload, subscribes, webhookEventsOf } from '../webhooks/events.js';
import type { ServiceDeps } from './deps.js';

export interface ChangeScope {
  readonly tx: StoreTx;
  readonly at: string;
  readonly now: Date;
  /** Appends an audit event in this transaction: only a type of the vocabulary, by a typed actor. */
  audit(type: AuditEventType, actor: Actor, data: Record<string, unknown>): Promise<AuditEvent>;
  /**
   * The `Vouch` for a write (store/store.ts): the event that records it, appended with the claims of
   * the rows the store is about to write as `data.rows` (docs/state.md).
   */
  vouch(type: AuditEventType, actor: Actor, data: Record<string, unknown> | ((claims: readonly RowClaim[]) => Record<string, unknown>)): Vouch;
}

export async function change<T>(deps: ServiceDeps, fn: (scope: ChangeScope) => Promise<T>): Promise<T> {
  return deps.store.transaction(async (tx) => {
    const now = deps.now();
    const at = now.toISOString();
    const appended: AuditEvent[] = [];
    const scope: ChangeScope = {
      tx,
      at,
      now,
      audit: async (type, actor, data) => {
        const event = await tx.appendAudit({ type, actor, at, data });
        appended.push(event);
        return event;
      },
      vouch: (type, actor, data) => async (claims) =>
        (await scope.audit(type, actor, { ...(typeof data === 'function' ? data(claims) : data), rows: claims })).seq,
    };
    const result = await fn(scope);
    if (appended.length > 0) {
      await checkpoint(deps, tx, at, appended);
      await enqueueWebhooks(tx, at, appended);
    }
    return result;
  });
}

/**
 * Signs a checkpoint of the log as it now stands: the hash chain's head, and the Merkle root as a
 * signed note. The tree grows from the previous checkpoint's frontier, so this costs O(log n).
 */
async function checkpoint(deps: ServiceDeps, tx: StoreTx, at: string, appended: readonly AuditEvent[]): Promise<void> {
  const head = await tx.auditHead();
  const previous = await tx.latestCheckpoint();
  const before = head.size - appended.length;
  const frontier =
    previous && previous.size === before
      ? extendFrontier(previous.frontier.map((h) => Buffer.from(h, 'hex')), before, appended.map(auditLeafHash))
      : extendFrontier([], 0, (await tx.auditEvents()).map(auditLeafHash));
  const root = frontierRoot(frontier);
  const body = { size: head.size, head: head.head, at };
  await tx.putCheckpoint({
    ...body,
    signature: signBytes(deps.serverKey, checkpointMessage(body)),
    keyId: serverKeyId(deps),
    root: root.toString('hex'),
    note: signCheckpointNote({ origin: deps.origin, size: head.size, root, at, head: head.head, key: deps.serverKey }),
    frontier: frontier.map((h) => h.toString('hex')),
  });
}

/**
 * The outbox: the webhook deliveries this change's events call for, written in its transaction, so a
 * committed change always has them and a rolled-back one never does. `tollgate serve` sends them.
 */
async function enqueueWebhooks(tx: StoreTx, at: string, appended: readonly AuditEvent[]): Promise<void> {
  const events = webhookEventsOf(appended);
  if (events.length === 0) return;
  const hooks = await tx.listWebhooks();
  const rows = events.flatMap((event) =>
    hooks
      .filter((hook) => subscribes(hook.events, event.type))
      .map((hook) => {
        const id = `dlv_${randomUUID()}`;
        return { id, webhookId: hook.id, event: event.type, auditSeq: event.audit.seq, payload: deliveryPayload(id, event), createdAt: at, nextAttemptAt: at };
      }),
  );
  await tx.enqueueDeliveries(rows);
}

/** A short stable name for the server key: the digest of its public key. */
export function serverKeyId(deps: ServiceDeps): string {
  return digestBytes(formatPublicKey(createPublicKey(deps.serverKey))).slice(0, 'sha256:'.length + 16);
}
