/**
 * 0010: hand-offs to deployment (issue 12; docs/handoff.md). Frozen in time like every migration.
 * - `handoffs`: one row per hand-off of a promotion (its key: `PROMOTION_ID/INDEX`, the hand-off's
 *   place in its stage's list), holding the latest attempt's outcome. Vouched for by the audit log
 *   like every row `status` and `release show` read: each attempt's `HandoffRecorded` event claims the
 *   row, a retry claims it again with its new outcome.
 * - PostgreSQL: the same statement trigger as the other vouched tables (0005), so the servers' read
 *   caches see a recorded hand-off at once.
 * (0008 and 0009 are other changes' numbers.)
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function handoffs(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('handoffs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('promotion_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('release_digest', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('definition_digest', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('commit_id', 'text')
        .addColumn('by_user', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('audit_seq', 'integer')
        .execute();
      await db.schema.createIndex('handoffs_release_idx').on('handoffs').columns(['release_digest', 'stage']).execute();
      await db.schema.createIndex('handoffs_promotion_idx').on('handoffs').column('promotion_id').execute();
      await db.schema.createIndex('handoffs_audit_seq_idx').on('handoffs').column('audit_seq').execute();
      if (dialect === 'postgres') {
        await sql`create trigger handoffs_touch after insert or update or delete or truncate on handoffs for each statement execute function tollgate_touch()`.execute(db);
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') await sql`drop trigger handoffs_touch on handoffs`.execute(db);
      await db.schema.dropTable('handoffs').execute();
    },
  };
}
