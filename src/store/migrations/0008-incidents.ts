/**
 * 0008: incidents (issue 12; docs/operations.md, docs/metrics.md). Frozen in time like every migration.
 * - `incidents`: one row per incident, linked to the release that held the stage when it was opened
 *   and the promotion that put it there. Vouched for by the audit log: `IncidentOpened` claims the
 *   row, `IncidentResolved` claims it again with its resolved fields.
 * - PostgreSQL: the same statement trigger as the other vouched tables (0005), so the servers' read
 *   caches see a change to it at once.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function incidents(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('release_digest', 'text', (c) => c.notNull())
        .addColumn('promotion_id', 'text', (c) => c.notNull())
        .addColumn('opened_by', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('resolved_by', 'text')
        .addColumn('resolved_at', 'text')
        .addColumn('resolve_note', 'text')
        .addColumn('audit_seq', 'integer')
        .execute();
      await db.schema.createIndex('incidents_subject_idx').on('incidents').columns(['subject', 'stage']).execute();
      await db.schema.createIndex('incidents_audit_seq_idx').on('incidents').column('audit_seq').execute();
      if (dialect === 'postgres') {
        await sql`create trigger incidents_touch after insert or update or delete or truncate on incidents for each statement execute function tollgate_touch()`.execute(db);
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') await sql`drop trigger incidents_touch on incidents`.execute(db);
      await db.schema.dropTable('incidents').execute();
    },
  };
}
