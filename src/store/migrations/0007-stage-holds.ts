/**
 * 0007: rollbacks that hold (issue 12; docs/operations.md). Frozen in time like every migration.
 * - `stage_holds`: one row per rollback, naming the release it took out of the stage and the
 *   promotion it undid (a failed change). The release stays out of that stage, and of the stages
 *   whose order goes through it, until the row is cleared (`release clear`). Vouched for by the audit
 *   log like every table a decision reads: the rollback's event claims the row, the clearance's event
 *   claims it again with its cleared fields.
 * - PostgreSQL: the same statement trigger as the other vouched tables (0005), so the servers' read
 *   caches see a change to it at once.
 * (0006 is another change's number.)
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function stageHolds(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('stage_holds')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('release_digest', 'text', (c) => c.notNull())
        .addColumn('promotion_id', 'text', (c) => c.notNull())
        .addColumn('by_user', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('cleared_by', 'text')
        .addColumn('cleared_at', 'text')
        .addColumn('clear_reason', 'text')
        .addColumn('audit_seq', 'integer')
        .execute();
      await db.schema.createIndex('stage_holds_subject_idx').on('stage_holds').columns(['subject', 'stage']).execute();
      await db.schema.createIndex('stage_holds_audit_seq_idx').on('stage_holds').column('audit_seq').execute();
      if (dialect === 'postgres') {
        await sql`create trigger stage_holds_touch after insert or update or delete or truncate on stage_holds for each statement execute function tollgate_touch()`.execute(db);
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') await sql`drop trigger stage_holds_touch on stage_holds`.execute(db);
      await db.schema.dropTable('stage_holds').execute();
    },
  };
}
