/**
 * The audit log: hash-linked events, appended one writer at a time, and their signed checkpoints.
 */
import { sql, type Kysely } from 'kysely';
import { eventSubject } from '../audit/events.js';
import { GENESIS_HASH, eventHash } from '../audit/log.js';
import { completedBy, nodeHash, type SubtreeRef } from '../audit/merkle.js';
import { auditLeafHash } from '../audit/tree.js';
import { canonicalJson } from '../domain/digest.js';
import { compiledOnce } from './compiled-queries.js';
import type { ReadContext, WriteContext } from './query-context.js';
import { toAuditEvent, toCheckpoint } from './rows.js';
import type { Database } from './schema.js';
import type { AuditCheckpoint, AuditEvent, AuditFilter, AuditReader, AuditWriter, NewAuditEvent } from './store.js';

export const auditReads: AuditReader & ThisType<ReadContext> = {
  async auditEvents(): Promise<AuditEvent[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    return rows.map(toAuditEvent);
  },

  auditHead(): Promise<{ size: number; head: string }> {
    return readHead(this.db);
  },

  async auditEventsAt(seqs: readonly number[]): Promise<AuditEvent[]> {
    const wanted = [...new Set(seqs)].filter((n) => Number.isSafeInteger(n));
    if (wanted.length === 0) return [];
    const rows = [];
    // In chunks: a decision may count hundreds of rows, and drivers limit bound parameters.
    for (let i = 0; i < wanted.length; i += 500) {
      rows.push(...(await this.db.selectFrom('audit_events').selectAll().where('seq', 'in', wanted.slice(i, i + 500)).execute()));
    }
    return rows.sort((a, b) => a.seq - b.seq).map(toAuditEvent);
  },

  async auditPage(afterSeq: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
    return rows.map(toAuditEvent);
  },

  async auditSearch(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditEvent[]> {
    const out: AuditEvent[] = [];
    let after = afterSeq;
    // Type, actor and time are columns, matched by the database. The subject is in the event's data:
    // the database narrows by the text of its canonical JSON (no spaces, so `"subject":"S"` is
    // literal), and the exact rule is checked here, since LIKE is case-insensitive on SQLite and a
    // key of a nested object could match too. So a page may need more than one query.
    const subjectLike =
      filter.subject === undefined
        ? undefined
        : [`%"subject":${likeEscape(JSON.stringify(filter.subject))}%`, `%"release":${likeEscape(JSON.stringify(filter.subject).slice(0, -1))}@%`];
    for (;;) {
      const want = limit - out.length;
      const pageSize = subjectLike ? Math.max(want, 100) : want;
      let q = this.db.selectFrom('audit_events').selectAll().where('seq', '>', after);
      if (filter.type !== undefined) q = q.where('type', '=', filter.type);
      if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
      if (filter.since !== undefined) q = q.where('at', '>=', filter.since);
      if (subjectLike) q = q.where((eb) => eb.or(subjectLike.map((p) => sql<boolean>`${eb.ref('data_json')} like ${p} escape '\\'`)));
      const rows = await q.orderBy('seq').limit(pageSize).execute();
      for (const row of rows) {
        const event = toAuditEvent(row);
        if (filter.subject !== undefined && eventSubject(event) !== filter.subject) continue;
        out.push(event);
        if (out.length === limit) return out;
      }
      if (rows.length < pageSize) return out;
      after = rows[rows.length - 1]!.seq;
    }
  },

  async auditNodes(refs: readonly SubtreeRef[]): Promise<Map<string, Buffer>> {
    return readNodes(this.db, refs);
  },

  async auditNodePage(level: number, afterIdx: number, limit: number): Promise<{ idx: number; hash: Buffer }[]> {
    const rows = await this.db
      .selectFrom('audit_nodes')
      .select(['idx', 'hash'])
      .where('level', '=', level)
      .where('idx', '>', afterIdx)
      .orderBy('idx')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ idx: r.idx, hash: Buffer.from(r.hash) }));
  },

  async auditNodeBounds(): Promise<{ minLevel: number; maxLevel: number; minIdx: number } | undefined> {
    const row = await this.db
      .selectFrom('audit_nodes')
      .select((eb) => [eb.fn.min('level').as('minLevel'), eb.fn.max('level').as('maxLevel'), eb.fn.min('idx').as('minIdx')])
      .executeTakeFirst();
    if (!row || row.minLevel === null || row.minLevel === undefined) return undefined;
    return { minLevel: Number(row.minLevel), maxLevel: Number(row.maxLevel), minIdx: Number(row.minIdx) };
  },

  async latestCheckpoint(): Promise<AuditCheckpoint | undefined> {
    // The largest size through its index first, then the newest checkpoint of that size: ordering the
    // whole table by (size, at) in one query scans and sorts it, a cost that grows with every change.
    const db = this.db;
    const build = () =>
      db
        .selectFrom('audit_checkpoints')
        .selectAll()
        .where('size', '=', (eb) => eb.selectFrom('audit_checkpoints').select((e) => e.fn.max('size').as('size')))
        .orderBy('at', 'desc')
        .limit(1);
    const [row] = (await db.executeQuery(compiledOnce(db, 'latestCheckpoint', build, [1]))).rows;
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
    const event = { ...body, hash };
    // The log's Merkle tree grows with it: the new leaf, and every complete subtree it completes.
    const completed = completedBy(size);
    const lefts = await readNodes(this.db, completed.slice(1).map((n) => ({ level: n.level - 1, index: 2 * n.index })));
    const nodes: { level: number; idx: number; hash: Buffer }[] = [{ level: 0, idx: size, hash: auditLeafHash(event) }];
    for (const n of completed.slice(1)) {
      const left = lefts.get(nodeKey(n.level - 1, 2 * n.index));
      if (!left) throw new Error(`audit_nodes lacks node (${n.level - 1}, ${2 * n.index}) of the log's tree: it was written without it, or changed`);
      nodes.push({ level: n.level, idx: n.index, hash: nodeHash(left, nodes[nodes.length - 1]!.hash) });
    }
    await this.db.insertInto('audit_nodes').values(nodes).execute();
    return event;
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

/** `text` with LIKE's wildcards (and the escape character) escaped by a backslash. */
function likeEscape(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** How `auditNodes` keys what it returns: `level/index`. */
export function nodeKey(level: number, index: number): string {
  return `${level}/${index}`;
}

async function readNodes(db: Kysely<Database>, refs: readonly SubtreeRef[]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (let i = 0; i < refs.length; i += 200) {
    const chunk = refs.slice(i, i + 200);
    const rows = await db
      .selectFrom('audit_nodes')
      .select(['level', 'idx', 'hash'])
      .where((eb) => eb.or(chunk.map((r) => eb.and([eb('level', '=', r.level), eb('idx', '=', r.index)]))))
      .execute();
    for (const r of rows) out.set(nodeKey(r.level, r.idx), Buffer.from(r.hash));
  }
  return out;
}

/** The size of the log and the hash of its last event (the genesis hash while it is empty). */
async function readHead(db: Kysely<Database>): Promise<{ size: number; head: string }> {
  const [last] = (await db.executeQuery(compiledOnce(db, 'readHead', () => db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1), [1]))).rows;
  return last ? { size: last.seq, head: last.hash } : { size: 0, head: GENESIS_HASH };
}
