/**
 * 0011: a webhook's message format (issue 14; docs/webhooks.md). Frozen in time like every migration.
 * - `webhooks.format`: how its deliveries are written: `json` (Tollgate's own payload), `slack`
 *   (Block Kit) or `teams` (an Adaptive Card). Null on the rows written before it, which read as
 *   `json`, and left out of the row's digest when null (store/vouched-rows.ts), so those rows keep the
 *   digest their `WebhookCreated` event recorded.
 * - No trigger: the webhooks table has had its statement trigger on PostgreSQL since 0005.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function webhookFormat(_dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('webhooks').addColumn('format', 'text').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('webhooks').dropColumn('format').execute();
    },
  };
}
