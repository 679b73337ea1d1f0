/**
 * 0005: the state as a projection of the audit log (docs/state.md). Frozen in time like every
 * migration.
 * - `audit_seq` on every table a decision or an identity check reads: the `seq` of the audit event
 *   that wrote the row last, whose `data.rows` carries the row's digest. Indexed, so `audit verify`
 *   reads each table in the log's order, page by page.
 * - `audit_nodes`: the Merkle tree of the log (RFC 9162) as its complete subtrees, `(level, idx)` the
 *   root of leaves `idx * 2^level` to `(idx + 1) * 2^level - 1`, written as events are appended, so an
 *   inclusion proof costs O(log² n) lookups instead of a pass over the whole log.
 * - `signoffs.evidence_digest`: the digest of the evidence the signer saw, part of what they signed.
 * Rows written before this migration have no `audit_seq`: nothing vouches for them (docs/state.md).
 */
import type { Kysely, Migration } from 'kysely';
import type { SqlDialectName } from '../dialect.js';

const VOUCHED = ['policies', 'releases', 'checklist_completions', 'signoffs', 'validation_results', 'promotions', 'stage_holders', 'api_tokens', 'webhooks'];

export function vouchedState(dialect: SqlDialectName): Migration {
  const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const table of VOUCHED) {
        await db.schema.alterTable(table).addColumn('audit_seq', 'integer').execute();
        await db.schema.createIndex(`${table}_audit_seq_idx`).on(table).column('audit_seq').execute();
      }
      await db.schema.alterTable('signoffs').addColumn('evidence_digest', 'text').execute();
      await db.schema
        .createTable('audit_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('hash', bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_nodes_pk', ['level', 'idx'])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('audit_nodes').execute();
      await db.schema.alterTable('signoffs').dropColumn('evidence_digest').execute();
      for (const table of VOUCHED) {
        await db.schema.dropIndex(`${table}_audit_seq_idx`).execute();
        await db.schema.alterTable(table).dropColumn('audit_seq').execute();
      }
    },
  };
}
