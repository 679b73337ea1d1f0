/**
 * 0009: break-glass and waivers (issue 12; docs/operations.md). Frozen in time like every migration.
 * - `exception_signoffs`: waivers (a requirement accepted as a risk for one release until an expiry)
 *   and break-glass sign-offs (one promotion allowed past a freeze or unmet requirements), each signed
 *   by its signer's Ed25519 key over every field that makes it (kind, release digest, stage, role,
 *   reason, and for a waiver the gate, its digest, the requirement and the expiry). Vouched for by
 *   the audit log like every table a decision reads.
 * - `promotions.break_glass_json`: what marks a break-glass promotion (reason, sign-off, signer,
 *   role, the requirements it went past); null on every other promotion, and left out of the row's
 *   digest when null, so rows written before it keep the digest their event recorded.
 * - PostgreSQL: the same statement trigger as the other vouched tables (0005), so the servers' read
 *   caches see a change to it at once.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

export function breakGlass(dialect: SqlDialectName): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('exception_signoffs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('release', 'text', (c) => c.notNull())
        .addColumn('release_digest', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('signer', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('gate', 'text')
        .addColumn('gate_digest', 'text')
        .addColumn('requirement', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('audit_seq', 'integer')
        .execute();
      await db.schema.createIndex('exception_signoffs_release_idx').on('exception_signoffs').column('release_digest').execute();
      await db.schema.createIndex('exception_signoffs_audit_seq_idx').on('exception_signoffs').column('audit_seq').execute();
      await db.schema.alterTable('promotions').addColumn('break_glass_json', 'text').execute();
      if (dialect === 'postgres') {
        await sql`create trigger exception_signoffs_touch after insert or update or delete or truncate on exception_signoffs for each statement execute function tollgate_touch()`.execute(db);
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') await sql`drop trigger exception_signoffs_touch on exception_signoffs`.execute(db);
      await db.schema.alterTable('promotions').dropColumn('break_glass_json').execute();
      await db.schema.dropTable('exception_signoffs').execute();
    },
  };
}
