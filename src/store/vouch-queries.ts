/**
 * What the audit log vouches for, read back (docs/state.md): each row of a vouched table as its key,
 * the event it names (`audit_seq`) and the digest of its columns as stored. Decisions look rows up by
 * key; `audit verify` reads each table in the log's order, a range of events at a time, in bounded
 * memory (rows are digested as they arrive and only their digests kept).
 */
import { sql, type Kysely } from 'kysely';
import type { StoredRow } from '../audit/replay.js';
import { VOUCHED_TABLES, type VouchedTable } from '../domain/records.js';
import type { ReadContext } from './query-context.js';
import type { Database } from './schema.js';
import type { VouchReader } from './store.js';
import { storedRow } from './vouched-rows.js';
import { pushAll } from '../domain/bounded.js';

/** Rows fetched per query: a validation result may hold megabytes of measurements. */
const CHUNK = 200;

export const vouchReads: VouchReader & ThisType<ReadContext> = {
  async rowVouchers(table: VouchedTable, keys: readonly string[]): Promise<Map<string, StoredRow>> {
    checkTable(table);
    const out = new Map<string, StoredRow>();
    const wanted = [...new Set(keys)];
    for (let i = 0; i < wanted.length; i += CHUNK) {
      const chunk = wanted.slice(i, i + CHUNK);
      const rows = await keyQuery(this.db, table, chunk).execute();
      for (const row of rows as Record<string, unknown>[]) {
        const stored = storedRow(table, row);
        out.set(stored.key, stored);
      }
    }
    return out;
  },

  async rowsInRange(table: VouchedTable, from: number, to: number): Promise<StoredRow[]> {
    checkTable(table);
    const out: StoredRow[] = [];
    let cursor = from;
    while (cursor <= to) {
      const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)} where audit_seq >= ${cursor} and audit_seq <= ${to} order by audit_seq limit ${CHUNK}`.execute(this.db)).rows;
      if (rows.length < CHUNK) {
        pushAll(out, rows.map((r) => storedRow(table, r)));
        break;
      }
      // A full chunk may end part way through the rows of one event: keep the events it holds whole,
      // and read the last one's rows on their own (there are a few at most, unless forged).
      const last = Number(rows[rows.length - 1]!.audit_seq);
      const whole = rows.filter((r) => Number(r.audit_seq) < last);
      pushAll(out, whole.map((r) => storedRow(table, r)));
      if (whole.length === 0) {
        const all = (await sql<Record<string, unknown>>`select * from ${sql.table(table)} where audit_seq = ${last}`.execute(this.db)).rows;
        pushAll(out, all.map((r) => storedRow(table, r)));
        cursor = last + 1;
      } else {
        cursor = last;
      }
    }
    return out;
  },

  async strayRows(table: VouchedTable, size: number): Promise<StoredRow[]> {
    checkTable(table);
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)} where audit_seq is null or audit_seq > ${size} or audit_seq < 1`.execute(this.db)).rows;
    return rows.map((r) => storedRow(table, r));
  },

  async blobDigests(afterDigest: string | undefined, limit: number): Promise<{ digest: string; size: number }[]> {
    let q = this.db.selectFrom('blobs').select(['digest', 'size']);
    // From the very first: a blob kept under the empty string sorts before any other.
    if (afterDigest !== undefined) q = q.where('digest', '>', afterDigest);
    return q.orderBy('digest').limit(limit).execute();
  },
};

/** The rows of `table` with these keys (a stage holder's key is `subject/stage`). */
function keyQuery(db: Kysely<Database>, table: VouchedTable, keys: readonly string[]) {
  switch (table) {
    case 'policies':
      return db.selectFrom('policies').selectAll().where('version', 'in', keys.map(Number).filter(Number.isSafeInteger));
    case 'releases':
      return db.selectFrom('releases').selectAll().where('digest', 'in', [...keys]);
    case 'stage_holders': {
      const pairs = keys.map((k) => {
        const slash = k.lastIndexOf('/');
        return { subject: k.slice(0, slash), stage: k.slice(slash + 1) };
      });
      return db
        .selectFrom('stage_holders')
        .selectAll()
        .where((eb) => eb.or(pairs.map((p) => eb.and([eb('subject', '=', p.subject), eb('stage', '=', p.stage)]))));
    }
    default:
      return db.selectFrom(table).selectAll().where('id', 'in', [...keys]);
  }
}

/** Table names reach SQL as identifiers here; only the vouched tables are allowed in. */
function checkTable(table: string): void {
  if (!(VOUCHED_TABLES as readonly string[]).includes(table)) throw new Error(`${table} is not a vouched table`);
}
