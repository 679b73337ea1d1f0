/**
 * The one implementation of `Store` over Kysely, shared by SQLite and PostgreSQL so that every query
 * is written once. What differs between the two is passed in by `sqlite-store.ts` and
 * `postgres-store.ts` (`KyselyStoreOptions`): how a write transaction begins, how writers take turns
 * in it, and how other processes' commits are noticed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Kysely } from 'kysely';
import { GENESIS_HASH, eventHash } from '../audit/log.js';
import { canonicalJson, digestBytes, type Digest } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import type {
  ChecklistCompletion,
  EvidenceSet,
  PolicyVersion,
  Promotion,
  Release,
  Signoff,
  ValidationResult,
} from '../domain/model.js';
import type { SqlDialectName, WriteLocks } from './dialect.js';
import {
  toAttempt,
  toAuditEvent,
  toChecklist,
  toCheckpoint,
  toDelivery,
  toPolicyVersion,
  toPromotion,
  toRelease,
  toSignoff,
  toToken,
  toValidation,
  toWebhook,
} from './rows.js';
import type { Database } from './schema.js';
import type {
  ApiToken,
  AuditCheckpoint,
  AuditEvent,
  DeliveryAttempt,
  DeliveryOutcome,
  DeliveryStatus,
  NewAuditEvent,
  Store,
  StoreReader,
  StoreTx,
  Webhook,
  WebhookDelivery,
} from './store.js';

/** How a dialect plugs into the shared Kysely store. */
export interface KyselyStoreOptions {
  readonly dialect: SqlDialectName;
  /**
   * Runs `fn` in one write transaction and commits, or rolls back if it throws. SQLite takes the
   * write lock at the start (BEGIN IMMEDIATE); PostgreSQL uses an ordinary transaction, in which
   * writers take the advisory `locks`.
   */
  readonly begin: <T>(fn: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;
  /** How writers take turns inside those transactions. */
  readonly locks: WriteLocks;
  /** Releases the database; `db.destroy()` when absent. */
  readonly close?: () => Promise<void>;
  /**
   * What other processes' commits have changed, as a value that moves when they commit (SQLite:
   * `PRAGMA data_version`; PostgreSQL: the audit log's head, since every change appends to it).
   * This process's own commits are counted by the store itself. Absent: no change marker.
   */
  readonly externalVersion?: () => Promise<string>;
}

/** A `Store` over a migrated Tollgate database (see `migrations/`). */
export function createKyselyStore(db: Kysely<Database>, opts: KyselyStoreOptions): Store {
  return new KyselyStore(db, opts);
}

// ------------------------------------------------------------------------------------------ reads

class Reader implements StoreReader {
  constructor(protected readonly db: Kysely<Database>) {}

  async activePolicy(): Promise<PolicyVersion | undefined> {
    const row = await this.db.selectFrom('policies').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
    return row && toPolicyVersion(row);
  }

  async policyVersion(version: number): Promise<PolicyVersion | undefined> {
    const row = await this.db.selectFrom('policies').selectAll().where('version', '=', version).executeTakeFirst();
    return row && toPolicyVersion(row);
  }

  async findRelease(subject: string, version: string): Promise<Release | undefined> {
    const row = await this.db
      .selectFrom('releases')
      .selectAll()
      .where('subject', '=', subject)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toRelease(row);
  }

  async listReleases(filter: { subject?: string } = {}): Promise<Release[]> {
    let q = this.db.selectFrom('releases').selectAll();
    if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
    const rows = await q.orderBy('created_at').orderBy('subject').orderBy('version').execute();
    return rows.map(toRelease);
  }

  async findSignoff(releaseDigest: Digest, signer: string, signature: string): Promise<Signoff | undefined> {
    // By the signature alone, so that the planner takes its index (signatures do not repeat): with the
    // release's column in the query too, SQLite may walk every sign-off of the release instead.
    const rows = await this.db.selectFrom('signoffs').selectAll().where('signature', '=', signature).execute();
    const row = rows.find((r) => r.release_digest === releaseDigest && r.signer === signer);
    return row && toSignoff(row);
  }

  async evidence(releaseDigest: Digest): Promise<EvidenceSet> {
    // `at` first, then `id`, so that the order is the same on every read even when two share a time.
    const checklist = await this.db
      .selectFrom('checklist_completions')
      .selectAll()
      .where('release_digest', '=', releaseDigest)
      .orderBy('at')
      .orderBy('id')
      .execute();
    const signoffs = await this.db
      .selectFrom('signoffs')
      .selectAll()
      .where('release_digest', '=', releaseDigest)
      .orderBy('at')
      .orderBy('id')
      .execute();
    const validations = await this.db
      .selectFrom('validation_results')
      .selectAll()
      .where('release_digest', '=', releaseDigest)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return {
      checklist: checklist.map(toChecklist),
      signoffs: signoffs.map(toSignoff),
      validations: validations.map(toValidation),
    };
  }

  async promotions(filter: { subject?: string; stage?: string; releaseDigest?: Digest } = {}): Promise<Promotion[]> {
    let q = this.db.selectFrom('promotions').selectAll();
    if (filter.subject !== undefined) q = q.where('subject', '=', filter.subject);
    if (filter.stage !== undefined) q = q.where('stage', '=', filter.stage);
    if (filter.releaseDigest !== undefined) q = q.where('release_digest', '=', filter.releaseDigest);
    const rows = await q.orderBy('seq').execute();
    return rows.map(toPromotion);
  }

  async stageHolder(subject: string, stage: string): Promise<Promotion | undefined> {
    const row = await this.db
      .selectFrom('stage_holders')
      .innerJoin('promotions', 'promotions.id', 'stage_holders.promotion_id')
      .selectAll('promotions')
      .where('stage_holders.subject', '=', subject)
      .where('stage_holders.stage', '=', stage)
      .executeTakeFirst();
    return row && toPromotion(row);
  }

  async blob(digest: Digest): Promise<Uint8Array | undefined> {
    const row = await this.db.selectFrom('blobs').select('content').where('digest', '=', digest).executeTakeFirst();
    // Both drivers hand back a Node Buffer; callers get a plain Uint8Array, as the interface says.
    return row && new Uint8Array(row.content);
  }

  async auditEvents(): Promise<AuditEvent[]> {
    const rows = await this.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
    return rows.map(toAuditEvent);
  }

  async auditHead(): Promise<{ size: number; head: string }> {
    const last = await this.db
      .selectFrom('audit_events')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    return last ? { size: last.seq, head: last.hash } : { size: 0, head: GENESIS_HASH };
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const row = await this.db
      .selectFrom('audit_checkpoints')
      .selectAll()
      .orderBy('size', 'desc')
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toCheckpoint(row);
  }

  async findTokenByHash(hash: string): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row && toToken(row);
  }

  async listTokens(): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  async listWebhooks(opts: { includeRemoved?: boolean } = {}): Promise<Webhook[]> {
    let q = this.db.selectFrom('webhooks').selectAll();
    if (opts.includeRemoved !== true) q = q.where('removed_at', 'is', null);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(toWebhook);
  }

  async webhookDeliveries(filter: { id?: string; webhookId?: string; status?: DeliveryStatus; limit?: number } = {}): Promise<WebhookDelivery[]> {
    let q = this.db.selectFrom('webhook_deliveries').selectAll();
    if (filter.id !== undefined) q = q.where('id', '=', filter.id);
    if (filter.webhookId !== undefined) q = q.where('webhook_id', '=', filter.webhookId);
    if (filter.status !== undefined) q = q.where('status', '=', filter.status);
    const rows = await q.orderBy('audit_seq', 'desc').orderBy('event_type').orderBy('webhook_id').limit(filter.limit ?? 100).execute();
    return rows.map(toDelivery);
  }

  async deliveryAttempts(deliveryIds: readonly string[]): Promise<DeliveryAttempt[]> {
    if (deliveryIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where('delivery_id', 'in', [...deliveryIds])
      .orderBy('delivery_id')
      .orderBy('attempt')
      .execute();
    return rows.map(toAttempt);
  }
}

// ----------------------------------------------------------------------------------------- writes

class Tx extends Reader implements StoreTx {
  constructor(
    db: Kysely<Database>,
    private readonly locks: WriteLocks,
  ) {
    super(db);
  }

  private async serialize(kind: 'audit' | 'policies' | 'promotions'): Promise<void> {
    await this.locks.serialize(this.db, kind);
  }

  async lockStage(subject: string, stage: string): Promise<void> {
    await this.locks.lockStage(this.db, subject, stage);
  }

  async insertPolicy(p: Omit<PolicyVersion, 'version'>): Promise<PolicyVersion> {
    await this.serialize('policies');
    const last = await this.db.selectFrom('policies').select('version').orderBy('version', 'desc').limit(1).executeTakeFirst();
    const version = (last?.version ?? 0) + 1;
    await this.db
      .insertInto('policies')
      .values({
        version,
        digest: p.digest,
        name: p.name,
        source: p.source,
        policy_json: JSON.stringify(p.policy),
        applied_at: p.appliedAt,
        applied_by: p.appliedBy,
      })
      .execute();
    return { ...p, version };
  }

  async insertRelease(r: Release): Promise<void> {
    try {
      await this.db
        .insertInto('releases')
        .values({
          digest: r.digest,
          subject: r.subject,
          version: r.version,
          manifest_json: JSON.stringify(r.manifest),
          created_at: r.createdAt,
          created_by: r.createdBy,
        })
        .execute();
    } catch (err) {
      // Two writers can both find the name free and race to insert; the loser gets the product's
      // error rather than a driver's constraint message.
      if (isUniqueViolation(err)) {
        throw tollgateError('TG_RELEASE_CONFLICT', `release ${r.subject}@${r.version} is already registered`, {
          details: { release: `${r.subject}@${r.version}`, digest: r.digest },
        });
      }
      throw err;
    }
  }

  async insertChecklist(c: ChecklistCompletion): Promise<void> {
    await this.db
      .insertInto('checklist_completions')
      .values({
        id: c.id,
        release_digest: c.releaseDigest,
        stage: c.stage,
        gate_id: c.gateId,
        item_id: c.itemId,
        item_digest: c.itemDigest,
        by_user: c.by,
        at: c.at,
        evidence_json: c.evidence === undefined ? null : JSON.stringify(c.evidence),
        note: c.note ?? null,
      })
      .execute();
  }

  async insertSignoff(s: Signoff): Promise<void> {
    await this.db
      .insertInto('signoffs')
      .values({
        id: s.id,
        type: s.type,
        release: s.release,
        release_digest: s.releaseDigest,
        stage: s.stage,
        gate: s.gate,
        gate_digest: s.gateDigest,
        role: s.role,
        decision: s.decision,
        signer: s.signer,
        at: s.at,
        comment: s.comment ?? null,
        signature: s.signature,
      })
      .execute();
  }

  async insertValidation(v: ValidationResult): Promise<void> {
    await this.db
      .insertInto('validation_results')
      .values({
        id: v.id,
        release_digest: v.releaseDigest,
        stage: v.stage,
        gate_id: v.gateId,
        validation_id: v.validationId,
        validator: v.validator,
        validator_version: v.validatorVersion,
        definition_digest: v.definitionDigest,
        status: v.status,
        summary: v.summary,
        measurements_json: JSON.stringify(v.measurements),
        thresholds_json: JSON.stringify(v.thresholds),
        inputs_json: JSON.stringify(v.inputs),
        details_json: v.details === undefined ? null : JSON.stringify(v.details),
        duration_ms: Math.round(v.durationMs),
        by_user: v.by,
        at: v.at,
      })
      .execute();
  }

  async putBlob(digest: Digest, bytes: Uint8Array): Promise<void> {
    // A wrong digest would make the content unfindable and break every reference to it: a bug.
    const actual = digestBytes(bytes);
    if (actual !== digest) throw new Error(`putBlob: the bytes have digest ${actual}, not ${digest}`);
    await this.db
      .insertInto('blobs')
      .values({
        digest,
        // Both drivers bind a Buffer as BLOB / BYTEA; a bare Uint8Array is not accepted by better-sqlite3.
        content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        size: bytes.byteLength,
      })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }

  async insertPromotion(p: Promotion): Promise<void> {
    await this.serialize('promotions');
    const last = await this.db.selectFrom('promotions').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
    await this.db
      .insertInto('promotions')
      .values({
        id: p.id,
        seq: (last?.seq ?? 0) + 1,
        subject: p.subject,
        stage: p.stage,
        version: p.version,
        release_digest: p.releaseDigest,
        policy_version: p.policyVersion,
        policy_digest: p.policyDigest,
        kind: p.kind,
        by_user: p.by,
        at: p.at,
        previous_version: p.previousVersion ?? null,
        reason: p.reason ?? null,
      })
      .execute();
    await this.db
      .insertInto('stage_holders')
      .values({
        subject: p.subject,
        stage: p.stage,
        version: p.version,
        release_digest: p.releaseDigest,
        promotion_id: p.id,
      })
      .onConflict((oc) =>
        oc.columns(['subject', 'stage']).doUpdateSet((eb) => ({
          version: eb.ref('excluded.version'),
          release_digest: eb.ref('excluded.release_digest'),
          promotion_id: eb.ref('excluded.promotion_id'),
        })),
      )
      .execute();
  }

  async appendAudit(e: NewAuditEvent): Promise<AuditEvent> {
    // Reading the head and writing the next event must not interleave with another writer, or two
    // events would claim the same `prev`; `serialize` sees to it.
    await this.serialize('audit');
    const { size, head } = await this.auditHead();
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
  }

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
  }

  async insertToken(t: ApiToken): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: t.id,
        user_name: t.user,
        hash: t.hash,
        created_at: t.createdAt,
        created_by: t.createdBy,
        expires_at: t.expiresAt ?? null,
        revoked_at: t.revokedAt ?? null,
      })
      .execute();
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    const row = await this.db.selectFrom('api_tokens').select('revoked_at').where('id', '=', id).executeTakeFirst();
    if (!row) return false;
    if (row.revoked_at === null) await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).execute();
    return true;
  }

  async insertWebhook(w: Webhook): Promise<void> {
    await this.db
      .insertInto('webhooks')
      .values({
        id: w.id,
        url: w.url,
        events_json: JSON.stringify(w.events),
        secret: w.secret,
        created_at: w.createdAt,
        created_by: w.createdBy,
        removed_at: w.removedAt ?? null,
      })
      .execute();
  }

  async removeWebhook(id: string, at: string): Promise<boolean> {
    const row = await this.db.selectFrom('webhooks').select('removed_at').where('id', '=', id).executeTakeFirst();
    if (!row) return false;
    if (row.removed_at === null) {
      await this.db.updateTable('webhooks').set({ removed_at: at }).where('id', '=', id).execute();
      await this.db
        .updateTable('webhook_deliveries')
        .set({ status: 'failed', last_error: 'the webhook was removed', lease_until: null })
        .where('webhook_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
    }
    return true;
  }

  async enqueueDeliveries(rows: readonly Omit<WebhookDelivery, 'status' | 'attempts'>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db
      .insertInto('webhook_deliveries')
      .values(
        rows.map((d) => ({
          id: d.id,
          webhook_id: d.webhookId,
          event_type: d.event,
          audit_seq: d.auditSeq,
          payload: d.payload,
          status: 'pending',
          attempts: 0,
          created_at: d.createdAt,
          next_attempt_at: d.nextAttemptAt,
          lease_until: null,
          delivered_at: null,
          last_status: null,
          last_error: null,
        })),
      )
      .execute();
  }

  async claimDeliveries(opts: { now: string; leaseUntil: string; limit: number }): Promise<WebhookDelivery[]> {
    const due = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', opts.now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', opts.now)]))
      .orderBy('audit_seq')
      .orderBy('webhook_id')
      .orderBy('event_type')
      .limit(opts.limit);
    const ids = (await this.locks.skipLocked(due).execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await this.db.updateTable('webhook_deliveries').set({ lease_until: opts.leaseUntil }).where('id', 'in', ids).execute();
    const rows = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', 'in', ids).orderBy('audit_seq').orderBy('webhook_id').orderBy('event_type').execute();
    return rows.map(toDelivery);
  }

  async redeliver(id: string, at: string): Promise<WebhookDelivery | undefined> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: at, lease_until: null, delivered_at: null })
      .where('id', '=', id)
      .execute();
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  async recordAttempt(attempt: DeliveryAttempt, outcome: DeliveryOutcome): Promise<void> {
    await this.db
      .insertInto('webhook_attempts')
      .values({
        delivery_id: attempt.deliveryId,
        attempt: attempt.attempt,
        at: attempt.at,
        duration_ms: Math.round(attempt.durationMs),
        status_code: attempt.statusCode ?? null,
        error: attempt.error ?? null,
      })
      // Two replicas can try one delivery when a lease lapses mid-try: both tries happened, the log keeps the first.
      .onConflict((oc) => oc.columns(['delivery_id', 'attempt']).doNothing())
      .execute();
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: outcome.status,
        attempts: attempt.attempt,
        next_attempt_at: outcome.nextAttemptAt,
        lease_until: null,
        delivered_at: outcome.deliveredAt ?? null,
        last_status: outcome.lastStatus ?? null,
        last_error: outcome.lastError ?? null,
      })
      .where('id', '=', attempt.deliveryId)
      // A delivery another try already delivered stays delivered.
      .where('status', '!=', 'delivered')
      .execute();
  }
}

// ------------------------------------------------------------------------------------------ store

class KyselyStore implements Store {
  readonly dialect: SqlDialectName;
  readonly #db: Kysely<Database>;
  readonly #opts: KyselyStoreOptions;
  readonly #reader: Reader;
  /** Set while a `transaction` callback runs, to catch use of the store instead of its `tx`. */
  readonly #inTransaction = new AsyncLocalStorage<true>();
  /** Transactions this store has committed: its own part of the change marker. */
  #commits = 0;

  constructor(db: Kysely<Database>, opts: KyselyStoreOptions) {
    this.dialect = opts.dialect;
    this.#db = db;
    this.#opts = opts;
    this.#reader = new Reader(db);
  }

  /**
   * The reader outside transactions. Inside a transaction callback the store itself must not be
   * used: on SQLite its one connection is held by the transaction, so the call would wait forever;
   * on PostgreSQL it would read outside the transaction. A clear error beats a hang.
   */
  #read(): Reader {
    if (this.#inTransaction.getStore()) {
      throw new Error('inside store.transaction(), read and write through its `tx`, not the store');
    }
    return this.#reader;
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.#read();
    const result = await this.#inTransaction.run(true, () => this.#opts.begin((trx) => fn(new Tx(trx, this.#opts.locks))));
    // Counted once committed: a marker read before this point is older than the commit, so whatever
    // was cached under it is dropped at the next read.
    this.#commits++;
    return result;
  }

  async changeMarker(): Promise<string | undefined> {
    if (!this.#opts.externalVersion || this.#inTransaction.getStore()) return undefined;
    return `${await this.#opts.externalVersion()}/${this.#commits}`;
  }

  async close(): Promise<void> {
    await (this.#opts.close ? this.#opts.close() : this.#db.destroy());
  }

  activePolicy(): Promise<PolicyVersion | undefined> {
    return this.#read().activePolicy();
  }
  policyVersion(version: number): Promise<PolicyVersion | undefined> {
    return this.#read().policyVersion(version);
  }
  findRelease(subject: string, version: string): Promise<Release | undefined> {
    return this.#read().findRelease(subject, version);
  }
  listReleases(filter?: { subject?: string }): Promise<Release[]> {
    return this.#read().listReleases(filter);
  }
  findSignoff(releaseDigest: Digest, signer: string, signature: string): Promise<Signoff | undefined> {
    return this.#read().findSignoff(releaseDigest, signer, signature);
  }
  evidence(releaseDigest: Digest): Promise<EvidenceSet> {
    return this.#read().evidence(releaseDigest);
  }
  promotions(filter?: { subject?: string; stage?: string; releaseDigest?: Digest }): Promise<Promotion[]> {
    return this.#read().promotions(filter);
  }
  stageHolder(subject: string, stage: string): Promise<Promotion | undefined> {
    return this.#read().stageHolder(subject, stage);
  }
  blob(digest: Digest): Promise<Uint8Array | undefined> {
    return this.#read().blob(digest);
  }
  auditEvents(): Promise<AuditEvent[]> {
    return this.#read().auditEvents();
  }
  auditHead(): Promise<{ size: number; head: string }> {
    return this.#read().auditHead();
  }
  latestCheckpoint(): Promise<AuditCheckpoint | undefined> {
    return this.#read().latestCheckpoint();
  }
  findTokenByHash(hash: string): Promise<ApiToken | undefined> {
    return this.#read().findTokenByHash(hash);
  }
  listTokens(): Promise<ApiToken[]> {
    return this.#read().listTokens();
  }
  listWebhooks(opts?: { includeRemoved?: boolean }): Promise<Webhook[]> {
    return this.#read().listWebhooks(opts);
  }
  webhookDeliveries(filter?: { id?: string; webhookId?: string; status?: DeliveryStatus; limit?: number }): Promise<WebhookDelivery[]> {
    return this.#read().webhookDeliveries(filter);
  }
  deliveryAttempts(deliveryIds: readonly string[]): Promise<DeliveryAttempt[]> {
    return this.#read().deliveryAttempts(deliveryIds);
  }
}

/** A unique or primary-key violation, as better-sqlite3 and node-postgres report it. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
