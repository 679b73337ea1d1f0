/**
 * 0003: webhooks. Frozen in time like every migration: change these tables with a new migration.
 * - `webhooks`: subscriptions (a URL, the event types it wants, the HMAC secret it is signed with);
 * - `webhook_deliveries`: the outbox. One row per subscription per event, written in the same
 *   transaction as the change that caused it, so a committed change always has its deliveries and a
 *   rolled-back one never does; the dispatcher of any `serve` replica sends them;
 * - `webhook_attempts`: the delivery log, one row per try.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function webhooks(_dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events_json', 'text', (c) => c.notNull())
        // The HMAC key: kept as is, since signing needs it; never listed, logged or audited.
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('removed_at', 'text')
        .execute();

      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id'))
        .addColumn('event_type', 'text', (c) => c.notNull())
        // The audit event the delivery reports: deliveries go out in the log's order.
        .addColumn('audit_seq', 'integer', (c) => c.notNull())
        // The exact body sent, every try the same bytes (and the same signature input).
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        // A dispatcher that claims the row holds it until then; past it, any replica may take it over.
        .addColumn('lease_until', 'text')
        .addColumn('delivered_at', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addUniqueConstraint('webhook_deliveries_event_unique', ['webhook_id', 'audit_seq', 'event_type'])
        .execute();
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();

      await db.schema
        .createTable('webhook_attempts')
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_deliveries.id'))
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('webhook_attempts_pk', ['delivery_id', 'attempt'])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('webhook_attempts').execute();
      await db.schema.dropTable('webhook_deliveries').execute();
      await db.schema.dropTable('webhooks').execute();
    },
  };
}
