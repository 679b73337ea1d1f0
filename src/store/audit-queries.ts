/**
 * The audit log: hash-linked events, appended one writer at a time, and their signed checkpoints.
 */
import type { Kysely } from 'kysely';
import { GENESIS_HASH, eventHash } from '../audit/log.js';
import { canonicalJson } from '../domain/digest.js';
import type { ReadContext, WriteContext } from './query-context.js';
import { toAuditEvent, toCheckpoint } from './rows.js';
import type { Database } from './schema.js';
import type { AuditCheckpoint, AuditEvent, AuditReader, AuditWriter, NewAuditEvent } from './store.js';

export const auditReads: AuditReader & ThisType<ReadContext> = {
  async auditEvents(): Promise<AuditEvent[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    return rows.map(toAuditEvent);
  },

  auditHead(): Promise<{ size: number; head: string }> {
    return readHead(this.db);
  },

  async latestCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const row = await this.db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toCheckpoint(row);
  },
};

export const auditWrites: AuditWriter & ThisType<WriteContext> = {
  async appendAudit(e: NewAuditEvent): Promise<AuditEvent> {
    // Reading the head and writing the next event must not interleave with another writer, or two
    // events would claim the same `prev`; `locks.serialize` sees to it.
    await this.locks.serialize(this.db, 'audit');
    const { size, head } = await readHead(this.db);
    // The stored data is the canonical JSON the hash covers, and the event returned is what a later
    // read gives back (no `undefined` fields, no class instances), so it verifies the same way.
    const dataJson = canonicalJson(e.data);
    const body = {
      seq: size + 1,
      at: e.at,
      actor: e.actor,
      type: e.type,
      data: JSON.parse(dataJson) as Record<string, unknown>,
      prev: head,
    };
    const hash = eventHash(body);
    await this.db
      .insertInto('audit_events')
      .values({ seq: body.seq, at: body.at, actor: body.actor, type: body.type, data_json: dataJson, prev: body.prev, hash })
      .execute();
    return { ...body, hash };
  },

  async putCheckpoint(c: AuditCheckpoint): Promise<void> {
    await this.db
      .insertInto('audit_checkpoints')
      .values({
        size: c.size,
        head: c.head,
        at: c.at,
        signature: c.signature,
        key_id: c.keyId,
        root: c.root,
        note: c.note,
        frontier_json: JSON.stringify(c.frontier),
      })
      .execute();
  },
};

/** The size of the log and the hash of its last event (the genesis hash while it is empty). */
async function readHead(db: Kysely<Database>): Promise<{ size: number; head: string }> {
  const last = await db
    .selectFrom('audit_events')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return last ? { size: last.seq, head: last.hash } : { size: 0, head: GENESIS_HASH };
}
