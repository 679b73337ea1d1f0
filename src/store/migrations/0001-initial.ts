/**
 * 0001: the first schema. Frozen in time: never edit this file once released; change the schema
 * with a new migration. It uses `Kysely<any>` on purpose, so that later changes to `schema.ts` cannot
 * change what this migration does.
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

/** The initial schema for `dialect`; the only difference between the two is the bytes type. */
export function initial(dialect: SqlDialectName): Migration {
  // PostgreSQL has no BLOB and SQLite gives BYTEA numeric affinity, so each gets its own name.
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('policies')
        .addColumn('version', 'integer', (c) => c.primaryKey())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('policy_json', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'text', (c) => c.notNull())
        .addColumn('applied_by', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('releases')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('manifest_json', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        // A release is immutable: one name, one digest (DESIGN.md, release manifest).
        .addUniqueConstraint('releases_subject_version_unique', ['subject', 'version'])
        .execute();

      await db.schema
        .createTable('blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('content', bytes, (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('checklist_completions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_digest', 'text', (c) => c.notNull().references('releases.digest'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('gate_id', 'text', (c) => c.notNull())
        .addColumn('item_id', 'text', (c) => c.notNull())
        .addColumn('item_digest', 'text', (c) => c.notNull())
        .addColumn('by_user', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('evidence_json', 'text')
        .addColumn('note', 'text')
        .execute();

      await db.schema
        .createTable('signoffs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('release', 'text', (c) => c.notNull())
        .addColumn('release_digest', 'text', (c) => c.notNull().references('releases.digest'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('gate', 'text', (c) => c.notNull())
        .addColumn('gate_digest', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('signer', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('validation_results')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_digest', 'text', (c) => c.notNull().references('releases.digest'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('gate_id', 'text', (c) => c.notNull())
        .addColumn('validation_id', 'text', (c) => c.notNull())
        .addColumn('validator', 'text', (c) => c.notNull())
        .addColumn('validator_version', 'text', (c) => c.notNull())
        .addColumn('definition_digest', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('measurements_json', 'text', (c) => c.notNull())
        .addColumn('thresholds_json', 'text', (c) => c.notNull())
        .addColumn('inputs_json', 'text', (c) => c.notNull())
        .addColumn('details_json', 'text')
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('by_user', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('promotions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull().unique())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('release_digest', 'text', (c) => c.notNull().references('releases.digest'))
        .addColumn('policy_version', 'integer', (c) => c.notNull().references('policies.version'))
        .addColumn('policy_digest', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('by_user', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('previous_version', 'text')
        .addColumn('reason', 'text')
        .execute();

      await db.schema
        .createTable('stage_holders')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('release_digest', 'text', (c) => c.notNull().references('releases.digest'))
        .addColumn('promotion_id', 'text', (c) => c.notNull().references('promotions.id'))
        // At most one release holds a stage of a subject (DESIGN.md, rule 4).
        .addPrimaryKeyConstraint('stage_holders_pk', ['subject', 'stage'])
        .execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'integer', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data_json', 'text', (c) => c.notNull())
        .addColumn('prev', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('audit_checkpoints')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('head', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('root', 'text', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('frontier_json', 'text', (c) => c.notNull())
        .execute();

      // Evidence and promotions are always looked up by release digest.
      for (const table of ['checklist_completions', 'signoffs', 'validation_results', 'promotions', 'stage_holders']) {
        await db.schema.createIndex(`${table}_release_digest_idx`).on(table).column('release_digest').execute();
      }
      await db.schema.createIndex('promotions_subject_stage_idx').on('promotions').columns(['subject', 'stage']).execute();
      await db.schema.createIndex('audit_checkpoints_size_idx').on('audit_checkpoints').column('size').execute();
    },

    async down(db: Kysely<any>): Promise<void> {
      // Children before parents, so foreign keys never dangle.
      for (const table of [
        'audit_checkpoints',
        'audit_events',
        'stage_holders',
        'promotions',
        'validation_results',
        'signoffs',
        'checklist_completions',
        'blobs',
        'releases',
        'policies',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
