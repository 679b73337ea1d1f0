/**
 * Every state change goes through `change`: one transaction that holds the change, its audit events
 * and a fresh checkpoint signed by the server key, so the log's head is vouched for and a deleted
 * last event is caught (DESIGN.md rule 5). Every transaction ends with a checkpoint; changes that
 * arrive together share one (see `change`).
 */
import { randomUUID } from 'node:crypto';
import type { Actor, AuditEventType } from '../audit/events.js';
import { checkpointMessage } from '../audit/log.js';
import { digestBytes } from '../domain/digest.js';
import { formatPublicKey, signBytes } from '../domain/keys.js';
import type { RowClaim } from '../domain/records.js';
import { TransactionLost, type AuditEvent, type StoreTx, type Vouch } from '../store/store.js';
import { auditLeafHash, extendFrontier, frontierRoot, signCheckpointNote } from '../audit/tree.js';
import { deliveryPayload, subscribes, webhookEventsOf } from '../webhooks/events.js';
import type { ServiceDeps } from './deps.js';
import { pushAll } from '../domain/bounded.js';

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

/**
 * Runs `fn` as one state change. On SQLite, changes asked for while another transaction is running
 * wait for it and then commit together, in one transaction, each under its own savepoint (group commit): one
 * fsync and one signed checkpoint for all of them, so writers under load share the disk's pace
 * instead of queueing for it one by one. Each change still succeeds or fails on its own: one that
 * throws is rolled back to its savepoint and only its caller sees the error. A change alone (a CLI
 * command) runs after one turn of the event loop, in a transaction of its own.
 */
export function change<T>(deps: ServiceDeps, fn: (scope: ChangeScope) => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const item = { deps, fn, resolve: resolve as (value: unknown) => void, reject } as Pending;
    // Only on SQLite, whose one writer at a time pays an fsync per transaction. On PostgreSQL each
    // change keeps a transaction and a connection of its own, as concurrent as the database allows:
    // a group there would hold the audit log's lock while a later change in it takes a stage's lock,
    // the reverse of the order a lone promotion on another server takes them in: a deadlock.
    if (deps.store.dialect !== 'sqlite') {
      void runGroup(deps, item);
      return;
    }
    let queue = queues.get(deps.store);
    if (!queue) {
      queue = { pending: [], running: false };
      queues.set(deps.store, queue);
    }
    queue.pending.push(item);
    if (!queue.running) void drain(queue);
  });
}

interface Pending {
  readonly deps: ServiceDeps;
  readonly fn: (scope: ChangeScope) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

interface Queue {
  pending: Pending[];
  running: boolean;
}

/** The changes waiting for each store's next transaction. */
const queues = new WeakMap<object, Queue>();

/** At most this many changes share a transaction, so that none waits long behind a crowd. */
const MAX_GROUP = 64;

async function drain(queue: Queue): Promise<void> {
  queue.running = true;
  try {
    while (queue.pending.length > 0) {
      // A turn of the event loop first. Everything a request does before it asks for a change runs
      // in one go once its bytes are read (better-sqlite3 answers at once, so there is nothing to wait
      // for), and so does a transaction: without this turn, each request would reach its change only
      // after the last one's transaction had committed, and every group would be of one. With it, the
      // requests already received run up to their own change and join this group.
      await new Promise((resolve) => setImmediate(resolve));
      const first = queue.pending.shift()!;
      await runGroup(first.deps, first, queue);
    }
  } finally {
    queue.running = false;
  }
}

/**
 * The changes that join `first` in its transaction, taken from the queue once the transaction has
 * begun rather than when it was asked for: on SQLite the one connection is busy until then (the last
 * transaction, the reads of requests that came in meanwhile), and the changes asked for while it was
 * join this one instead of each waiting for a transaction of its own. One group signs with one key:
 * changes asked for with another server key (a key rotation in the same process) wait for the next.
 */
function joiners(first: Pending, queue: Queue | undefined): Pending[] {
  const group = [first];
  while (queue && group.length < MAX_GROUP && queue.pending.length > 0) {
    const next = queue.pending[0]!;
    if (next.deps.serverKey !== first.deps.serverKey || next.deps.origin !== first.deps.origin) break;
    group.push(queue.pending.shift()!);
  }
  return group;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

async function runGroup(deps: ServiceDeps, first: Pending, queue?: Queue): Promise<void> {
  // `first` is in the group from the start, so that a transaction that cannot even begin fails it
  // (and the queue moves on) rather than no one.
  let group: Pending[] = [first];
  let outcomes: Outcome[];
  try {
    outcomes = await deps.store.transaction(async (tx) => {
      group = joiners(first, queue);
      const appended: AuditEvent[] = [];
      const results: Outcome[] = [];
      let at = '';
      // Alone, a change needs no savepoint: its error ends the transaction.
      const alone = group.length === 1;
      for (const item of group) {
        try {
          const run = alone ? await runOne(item, tx, item.deps.now()) : await tx.savepoint(() => runOne(item, tx, item.deps.now()));
          at = run.at;
          pushAll(appended, run.appended);
          results.push({ ok: true, value: run.value });
        } catch (error) {
          if (alone) throw error;
          if (error instanceof TransactionLost) throw error.cause;
          results.push({ ok: false, error });
        }
      }
      if (appended.length > 0) await checkpoint(deps, tx, at, appended);
      return results;
    });
  } catch (error) {
    for (const item of group) item.reject(error);
    return;
  }
  outcomes.forEach((outcome, i) => (outcome.ok ? group[i]!.resolve(outcome.value) : group[i]!.reject(outcome.error)));
}

/** One change: its function, then the outbox rows its events call for, all in `tx`. */
async function runOne(item: Pending, tx: StoreTx, now: Date): Promise<{ value: unknown; appended: AuditEvent[]; at: string }> {
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
  const value = await item.fn(scope);
  if (appended.length > 0) await enqueueWebhooks(tx, at, appended);
  return { value, appended, at };
}

/**
 * Signs a checkpoint of the log as it now stands: the hash chain's head, and the Merkle root as a
 * signed note. The tree grows from the previous checkpoint's frontier, so this costs O(log n).
 */
async function checkpoint(deps: ServiceDeps, tx: StoreTx, at: string, appended: readonly AuditEvent[]): Promise<void> {
  // The head is the last event this transaction appended: every append goes through `scope.audit`,
  // and those of a change rolled back to its savepoint are not in `appended` (nor in the log).
  const last = appended[appended.length - 1]!;
  const head = { size: last.seq, head: last.hash };
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
  return digestBytes(formatPublicKey(deps.serverKey)).slice(0, 'sha256:'.length + 16);
}
