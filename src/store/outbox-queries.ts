/**
 * The webhook outbox: subscriptions, the deliveries owed to them (written in the transaction of the
 * change that caused them), the leases by which dispatchers claim them, and the log of tries.
 */
import { compiledOnce } from './compiled-queries.js';
import type { ReadContext, WriteContext } from './query-context.js';
import { claimOf, fromWebhook, vouched } from './vouched-rows.js';
import { toAttempt, toDelivery, toWebhook } from './rows.js';
import type {
  DeliveryAttempt,
  DeliveryOutcome,
  DeliveryStatus,
  OutboxReader,
  OutboxWriter,
  Vouch,
  Webhook,
  WebhookDelivery,
} from './store.js';

export const outboxReads: OutboxReader & ThisType<ReadContext> = {
  async listWebhooks(opts: { includeRemoved?: boolean } = {}): Promise<Webhook[]> {
    const db = this.db;
    const build = () => {
      let q = db.selectFrom('webhooks').selectAll();
      if (opts.includeRemoved !== true) q = q.where('removed_at', 'is', null);
      return q.orderBy('created_at').orderBy('id');
    };
    const { rows } = await db.executeQuery(compiledOnce(db, opts.includeRemoved === true ? 'allWebhooks' : 'webhooks', build, []));
    return rows.map(toWebhook);
  },

  async webhookDeliveries(filter: { id?: string; webhookId?: string; status?: DeliveryStatus; limit?: number } = {}): Promise<WebhookDelivery[]> {
    let q = this.db.selectFrom('webhook_deliveries').selectAll();
    if (filter.id !== undefined) q = q.where('id', '=', filter.id);
    if (filter.webhookId !== undefined) q = q.where('webhook_id', '=', filter.webhookId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    const rows = await q.orderBy('audit_seq', 'desc').orderBy('event_type').orderBy('webhook_id').limit(filter.limit ?? 100).execute();
    return rows.map(toDelivery);
  },

  async deliveryAttempts(deliveryIds: readonly string[]): Promise<DeliveryAttempt[]> {
    if (deliveryIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('delivery_id', 'in', [...deliveryIds])
      .orderBy('delivery_id')
      .orderBy('attempt')
      .execute();
    return rows.map(toAttempt);
  },
};

export const outboxWrites: OutboxWriter & ThisType<WriteContext> = {
  async insertWebhook(w: Webhook, vouch?: Vouch): Promise<void> {
    const row = fromWebhook(w);
    await this.db.insertInto('webhooks').values({ ...row, audit_seq: await vouched(vouch, [claimOf('webhooks', row)]) }).execute();
  },

  async removeWebhook(id: string, at: string, vouch?: Vouch): Promise<boolean> {
    const found = await this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!found) return false;
    if (found.removed_at === null) {
      // The event vouches for the subscription as it is once removed.
      const row = fromWebhook({ ...toWebhook(found), removedAt: at });
      await this.db.updateTable('webhooks').set({ removed_at: at, audit_seq: await vouched(vouch, [claimOf('webhooks', row)]) }).where('id', '=', id).execute();
      await this.db
        .updateTable('webhook_deliveries')
        .set({ status: 'failed', last_error: 'the webhook was removed', lease_until: null })
        .where('webhook_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
    }
    return true;
  },

  async enqueueDeliveries(rows: readonly Omit<WebhookDelivery, 'status' | 'attempts'>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('webhook_deliveries')
      .values(
        rows.map((d) => ({
          id: d.id,
          webhook_id: d.webhookId,
          event_type: d.event,
          audit_seq: d.auditSeq,
          payload: d.payload,
          status: 'pending',
          attempts: 0,
          created_at: d.createdAt,
          next_attempt_at: d.nextAttemptAt,
          lease_until: null,
          delivered_at: null,
          last_status: null,
          last_error: null,
        })),
      )
      .execute();
  },

  async claimDeliveries(opts: { now: string; leaseUntil: string; limit: number }): Promise<WebhookDelivery[]> {
    const due = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', opts.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', opts.now)]))
      .orderBy('audit_seq')
      .orderBy('webhook_id')
      .orderBy('event_type')
      .limit(opts.limit);
    const ids = (await this.locks.skipLocked(due).execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await this.db.updateTable('webhook_deliveries').set({ lease_until: opts.leaseUntil }).where('id', 'in', ids).execute();
    const rows = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', 'in', ids).orderBy('audit_seq').orderBy('webhook_id').orderBy('event_type').execute();
    return rows.map(toDelivery);
  },

  async redeliver(id: string, at: string): Promise<WebhookDelivery | undefined> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: at, lease_until: null, delivered_at: null })
      .where('id', '=', id)
      .execute();
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  },

  async recordAttempt(attempt: DeliveryAttempt, outcome: DeliveryOutcome): Promise<void> {
    await this.db
      .insertInto('webhook_attempts')
      .values({
        delivery_id: attempt.deliveryId,
        attempt: attempt.attempt,
        at: attempt.at,
        duration_ms: Math.round(attempt.durationMs),
        status_code: attempt.statusCode ?? null,
        error: attempt.error ?? null,
      })
      // Two replicas can try one delivery when a lease lapses mid-try: both tries happened, the log keeps the first.
      .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
      .execute();
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: outcome.status,
        attempts: attempt.attempt,
        next_attempt_at: outcome.nextAttemptAt,
        lease_until: null,
        delivered_at: outcome.deliveredAt ?? null,
        last_status: outcome.lastStatus ?? null,
        last_error: outcome.lastError ?? null,
      })
      .where('id', '=', attempt.deliveryId)
      // A delivery another try already delivered stays delivered.
      .where('status', '!=', 'delivered')
      .execute();
  },
};
