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
 * - PostgreSQL only: `tollgate_changes`, a counter every write to those tables and to the audit
 *   log moves (statement triggers), whoever writes: the servers' read caches are keyed by it, so a
 *   row changed behind Tollgate's back is read again, and refused, at once. (SQLite's
 *   `PRAGMA data_version` already moves on any other connection's write.)
 * Rows written before this migration have no `audit_seq`: nothing vouches for them (docs/state.md).
 */
import { sql, type Kysely, type Migration } from 'kysely';
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
      if (dialect === 'postgres') {
        await sql`create table tollgate_changes (id integer primary key, n bigint not null)`.execute(db);
        await sql`insert into tollgate_changes (id, n) values (1, 0)`.execute(db);
        // The search path is fixed at creation, so a write through a schema-qualified name from a
        // session with another search path still counts here.
        await sql`create function tollgate_touch() returns trigger language plpgsql set search_path from current as $$
          begin update tollgate_changes set n = n + 1 where id = 1; return null; end $$`.execute(db);
        for (const table of [...VOUCHED, 'audit_events', 'audit_checkpoints', 'audit_nodes']) {
          await sql`create trigger ${sql.id(`${table}_touch`)} after insert or update or delete or truncate on ${sql.table(table)} for each statement execute function tollgate_touch()`.execute(db);
        }
      }
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'postgres') {
        for (const table of [...VOUCHED, 'audit_events', 'audit_checkpoints', 'audit_nodes']) await sql`drop trigger ${sql.id(`${table}_touch`)} on ${sql.table(table)}`.execute(db);
        await sql`drop function tollgate_touch()`.execute(db);
        await sql`drop table tollgate_changes`.execute(db);
      }
      await db.schema.dropTable('audit_nodes').execute();
      await db.schema.alterTable('signoffs').dropColumn('evidence_digest').execute();
      for (const table of VOUCHED) {
        await db.schema.dropIndex(`${table}_audit_seq_idx`).execute();
        await db.schema.alterTable(table).dropColumn('audit_seq').execute();
      }
    },
  };
}
