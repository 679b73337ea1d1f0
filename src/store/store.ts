/**
 * The Store interface: everything Tollgate keeps, behind one interface that SQLite (embedded default)
 * and PostgreSQL (scale-out) implement. Writes happen only inside `transaction`, so a state change and
 * its audit event commit together or not at all (DESIGN.md, rule 5).
 *
 * `Store` is composed of role interfaces (the record, the audit log, tokens, the webhook outbox; each
 * a reader and a writer), so that a component can depend on just the roles it uses.
 */
import type { AuditCheckpoint, AuditEvent, NewAuditEvent } from '../audit/events.js';
import type { SubtreeRef } from '../audit/merkle.js';
import type { Digest } from '../domain/digest.js';
import type { RowClaim, VouchedTable } from '../domain/records.js';
import type { StoredRow } from '../audit/replay.js';
import type {
  ChecklistCompletion,
  EvidenceSet,
  ExceptionSignoff,
  Incident,
  PolicyVersion,
  Promotion,
  Release,
  Signoff,
  StageHold,
  HandoffRecord,
  ValidationResult,
} from '../domain/model.js';
import type { SqlDialectName } from './dialect.js';
export type { AuditCheckpoint, AuditEvent, NewAuditEvent };

/** A policy version as listed: its number, digest, name and who applied it when (not its text). */
export type PolicyVersionInfo = Pick<PolicyVersion, 'version' | 'digest' | 'name' | 'appliedAt' | 'appliedBy'>;

/**
 * Which events `auditSearch` returns; every field given must hold. `subject` matches an event whose
 * data names the subject (`subject`) or one of its releases (`release`: `SUBJECT@VERSION`), as
 * `eventSubject` (audit/events.ts) reads it.
 */
export interface AuditFilter {
  readonly type?: string;
  /** A typed actor exactly: `user:alice`, `validator:drift`, `system`. */
  readonly actor?: string;
  /** ISO 8601 time (as written, UTC `…Z`): events at or after it. */
  readonly since?: string;
  readonly subject?: string;
}

/** An API token as stored: who it speaks for and when it stops; never the secret itself. */
export interface ApiToken {
  readonly id: string;
  readonly user: string;
  /** Hex SHA-256 of the secret. */
  readonly hash: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt?: string;
  readonly revokedAt?: string;
}

/**
 * A passkey (WebAuthn credential) bound to a roster user: what signs that user's sign-offs in the
 * browser. Registered and revoked like a token, each with its audit event (docs/passkeys.md).
 */
export interface Passkey {
  /** The credential id, base64url. */
  readonly id: string;
  readonly user: string;
  /** base64 SubjectPublicKeyInfo DER: what node:crypto and `tollgate verify` check signatures with. */
  readonly publicKey: string;
  /** base64url COSE_Key as the authenticator gave it: what @simplewebauthn/server checks with. */
  readonly coseKey: string;
  /** COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256). */
  readonly algorithm: number;
  /** The authenticator's signature counter as last seen (0 for authenticators that keep none). */
  readonly signCount: number;
  readonly transports: readonly string[];
  /** The relying party it was registered for: the RP ID (a host name) and the origin. */
  readonly rpId: string;
  readonly origin: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt?: string;
  readonly revokedBy?: string;
}

/** A webhook subscription. `secret` is the HMAC key; only the store and the dispatcher see it. */
export interface Webhook {
  readonly id: string;
  readonly url: string;
  /** Event types (`release.promoted` …), or `*` for every one. */
  readonly events: readonly string[];
  readonly secret: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly removedAt?: string;
  /** How its deliveries are written; absent (a webhook from before formats) is `json`. */
  readonly format?: WebhookFormat;
}

/** `json`: Tollgate's own payload; `slack`: a Block Kit message; `teams`: an Adaptive Card message. */
export type WebhookFormat = 'json' | 'slack' | 'teams';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event to send to one webhook: a row of the outbox. */
export interface WebhookDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly event: string;
  readonly auditSeq: number;
  /** The JSON body, byte for byte what every try sends. */
  readonly payload: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAttemptAt: string;
  readonly leaseUntil?: string;
  readonly deliveredAt?: string;
  readonly lastStatus?: number;
  readonly lastError?: string;
}

/** One try of a delivery: the delivery log. */
export interface DeliveryAttempt {
  readonly deliveryId: string;
  readonly attempt: number;
  readonly at: string;
  readonly durationMs: number;
  readonly statusCode?: number;
  readonly error?: string;
}

/** What a try changed: delivered, or when to try again (or `failed` when the tries are used up). */
export interface DeliveryOutcome {
  readonly status: DeliveryStatus;
  readonly nextAttemptAt: string;
  readonly deliveredAt?: string;
  readonly lastStatus?: number;
  readonly lastError?: string;
}

// ------------------------------------------------------------------------------------------ roles
// One pair of interfaces per part of what the store keeps: the reads (anywhere) and the writes (only
// inside `transaction`). A component asks for the roles it uses, not the whole store.

/**
 * The record a decision is read from (DESIGN.md, rules 5 and 6): policy versions, releases, their
 * evidence and its attachments, promotions and who holds each stage.
 */
export interface RecordReader {
  /** The newest applied policy version, or undefined before any `policy apply`. */
  activePolicy(): Promise<PolicyVersion | undefined>;
  policyVersion(version: number): Promise<PolicyVersion | undefined>;
  /** Every recorded policy version, newest first: what it is and who applied it when, not its text. */
  policyVersions(): Promise<PolicyVersionInfo[]>;
  findRelease(subject: string, version: string): Promise<Release | undefined>;
  listReleases(filter?: { subject?: string }): Promise<Release[]>;
  /** The sign-off of this release by `signer` with exactly this signature, if one is recorded. */
  findSignoff(releaseDigest: Digest, signer: string, signature: string): Promise<Signoff | undefined>;
  /** All evidence recorded for a release digest, every stage, oldest first. */
  evidence(releaseDigest: Digest): Promise<EvidenceSet>;
  /** Promotions and rollbacks, oldest first. */
  promotions(filter?: { subject?: string; stage?: string; releaseDigest?: Digest }): Promise<Promotion[]>;
  /** The promotion that put the current holder into the stage. */
  stageHolder(subject: string, stage: string): Promise<Promotion | undefined>;
  /** Rollback holds (cleared ones included), oldest first. */
  stageHolds(filter?: { subject?: string; stage?: string; releaseDigest?: Digest }): Promise<StageHold[]>;
  /** Incidents (resolved ones included, unless `open`), oldest first. */
  incidents(filter?: { subject?: string; stage?: string; open?: boolean }): Promise<Incident[]>;
  findIncident(id: string): Promise<Incident | undefined>;
  /** Hand-offs to deployment (their latest attempts), in order of promotion and place in the stage's list. */
  handoffs(filter: { promotionIds?: readonly string[]; releaseDigest?: Digest; stage?: string }): Promise<HandoffRecord[]>;
  blob(digest: Digest): Promise<Uint8Array | undefined>;
}

/**
 * How a write is vouched for (docs/state.md): the store hands the claims of the rows it is about to
 * write (their keys and digests, as stored) to this function, which appends the audit event that
 * carries them and returns its `seq`; the rows are then written with that `seq`, in the same
 * transaction. Without one (only tests of the store itself) the rows name no event, and
 * `audit verify` reports them.
 */
export type Vouch = (claims: readonly RowClaim[]) => Promise<number>;

/** Writes to the record a decision is read from; each takes the `Vouch` of the change it belongs to. */
export interface RecordWriter {
  /**
   * Serializes promotions of one subject and stage until the transaction ends (an advisory lock on
   * PostgreSQL; SQLite lets one writer in at a time anyway).
   */
  lockStage(subject: string, stage: string): Promise<void>;
  /** Numbers the version (the next after the newest) and records it. */
  insertPolicy(p: Omit<PolicyVersion, 'version'>, vouch?: Vouch): Promise<PolicyVersion>;
  insertRelease(r: Release, vouch?: Vouch): Promise<void>;
  insertChecklist(c: ChecklistCompletion, vouch?: Vouch): Promise<void>;
  /**
   * Records a sign-off. A passkey sign-off passes the passkey's new signature counter too: the
   * passkey's row is updated in the same write, and the one event vouches for both rows.
   */
  insertSignoff(s: Signoff, vouch?: Vouch, passkeyCounter?: { readonly id: string; readonly signCount: number }): Promise<void>;
  insertValidation(v: ValidationResult, vouch?: Vouch): Promise<void>;
  /** Records a signed waiver or break-glass sign-off (exception.ts). */
  insertException(e: ExceptionSignoff, vouch?: Vouch): Promise<void>;
  /** Content-addressed: putting the same digest twice keeps one copy. */
  putBlob(digest: Digest, bytes: Uint8Array): Promise<void>;
  /**
   * Records the promotion and makes its release the holder of the stage; one claim for each row. A
   * rollback passes the hold it puts on the release it took out, claimed by the same event.
   */
  insertPromotion(p: Promotion, vouch?: Vouch, hold?: StageHold): Promise<void>;
  /** Rewrites holds with their `cleared` fields set; one event claims every row again. */
  updateStageHolds(holds: readonly StageHold[], vouch?: Vouch): Promise<void>;
  insertIncident(i: Incident, vouch?: Vouch): Promise<void>;
  /** Rewrites an incident with its `resolved` fields set; its event claims the row again. */
  updateIncident(i: Incident, vouch?: Vouch): Promise<void>;
  /** Records hand-offs' latest attempts (inserted, or replacing the earlier attempt); one event claims every row. */
  putHandoffs(records: readonly HandoffRecord[], vouch?: Vouch): Promise<void>;
}

/** The hash-linked audit log and its signed checkpoints. */
export interface AuditReader {
  /** The whole audit log in order of `seq`. */
  auditEvents(): Promise<AuditEvent[]>;
  /** The events with these `seq`s, in order of `seq` (those that exist). */
  auditEventsAt(seqs: readonly number[]): Promise<AuditEvent[]>;
  /** At most `limit` events after `afterSeq`, in order: the log page by page, in bounded memory. */
  auditPage(afterSeq: number, limit: number): Promise<AuditEvent[]>;
  /** At most `limit` events after `afterSeq` that match `filter`, in order of `seq`: one page of a filtered read. */
  auditSearch(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditEvent[]>;
  /** Stored subtrees of the log's Merkle tree, keyed `level/index` (see `nodeKey`); missing ones absent. */
  auditNodes(refs: readonly SubtreeRef[]): Promise<Map<string, Buffer>>;
  /** At most `limit` stored subtrees of one level after index `afterIdx`, in order. */
  auditNodePage(level: number, afterIdx: number, limit: number): Promise<{ idx: number; hash: Buffer }[]>;
  /** The lowest and highest level and the lowest index among the stored subtrees; undefined when there are none. */
  auditNodeBounds(): Promise<{ minLevel: number; maxLevel: number; minIdx: number } | undefined>;
  auditHead(): Promise<{ size: number; head: string }>;
  latestCheckpoint(): Promise<AuditCheckpoint | undefined>;
}

export interface AuditWriter {
  /** Appends an event linked to the current head and returns it with `seq`, `prev` and `hash`. */
  appendAudit(e: NewAuditEvent): Promise<AuditEvent>;
  putCheckpoint(c: AuditCheckpoint): Promise<void>;
}

/** API tokens, by the hash of their secret. */
export interface TokenReader {
  /** The token whose secret has this hex SHA-256, revoked and expired ones included. */
  findTokenByHash(hash: string): Promise<ApiToken | undefined>;
  /** Every token, oldest first. */
  listTokens(): Promise<ApiToken[]>;
}

export interface TokenWriter {
  insertToken(t: ApiToken, vouch?: Vouch): Promise<void>;
  /** Marks the token revoked at `at`; false when no token has that id. Revoking twice keeps the first time. */
  revokeToken(id: string, at: string, vouch?: Vouch): Promise<boolean>;
}

/** Passkeys, by credential id. */
export interface PasskeyReader {
  /** One passkey by credential id, revoked ones included. */
  findPasskey(id: string): Promise<Passkey | undefined>;
  /** Passkeys (of one user, or with these ids), revoked ones included, oldest first. */
  listPasskeys(filter?: { user?: string; ids?: readonly string[] }): Promise<Passkey[]>;
}

export interface PasskeyWriter {
  insertPasskey(p: Passkey, vouch?: Vouch): Promise<void>;
  /** Marks the passkey revoked; false when no passkey has that id. Revoking twice keeps the first time and records nothing. */
  revokePasskey(id: string, at: string, by: string, vouch?: Vouch): Promise<boolean>;
}

/** The webhook outbox: subscriptions, the deliveries owed to them, and the log of tries. */
export interface OutboxReader {
  /** Webhook subscriptions, oldest first; removed ones only when asked. */
  listWebhooks(opts?: { includeRemoved?: boolean }): Promise<Webhook[]>;
  /** Deliveries (one by `id`, or of one webhook, or in one state), newest first (by audit order), at most `limit` (default 100). */
  webhookDeliveries(filter?: { id?: string; webhookId?: string; status?: DeliveryStatus; limit?: number }): Promise<WebhookDelivery[]>;
  /** The tries of these deliveries, in order of delivery then attempt. */
  deliveryAttempts(deliveryIds: readonly string[]): Promise<DeliveryAttempt[]>;
}

export interface OutboxWriter {
  insertWebhook(w: Webhook, vouch?: Vouch): Promise<void>;
  /** Marks the webhook removed at `at` (its pending deliveries are dropped as `failed`); false when no webhook has that id. */
  removeWebhook(id: string, at: string, vouch?: Vouch): Promise<boolean>;
  /** Adds rows to the outbox (status `pending`, no tries yet). */
  enqueueDeliveries(rows: readonly Omit<WebhookDelivery, 'status' | 'attempts'>[]): Promise<void>;
  /**
   * Claims up to `limit` pending deliveries due at `now` whose lease is free or lapsed, oldest first,
   * leasing them until `leaseUntil`. On PostgreSQL rows another replica is claiming are skipped
   * (FOR UPDATE SKIP LOCKED), so replicas share the work without waiting on each other.
   */
  claimDeliveries(opts: { now: string; leaseUntil: string; limit: number }): Promise<WebhookDelivery[]>;
  /** Makes a delivery due again now (pending, lease released), whatever its state; its tries stay in the log. */
  redeliver(id: string, at: string): Promise<WebhookDelivery | undefined>;
  /** Logs a try and sets the delivery's state after it (the lease is released). */
  recordAttempt(attempt: DeliveryAttempt, outcome: DeliveryOutcome): Promise<void>;
}

/**
 * What the audit log vouches for, read back: rows of the vouched tables as their key, the event they
 * name (`audit_seq`) and the digest of their columns as stored (docs/state.md).
 */
export interface VouchReader {
  /** The rows of `table` with these keys (those that exist), by key. */
  rowVouchers(table: VouchedTable, keys: readonly string[]): Promise<Map<string, StoredRow>>;
  /** The rows of `table` that name an event from `from` to `to`, in that order. */
  rowsInRange(table: VouchedTable, from: number, to: number): Promise<StoredRow[]>;
  /** The rows of `table` that name no event of a log of `size` events (none, or one outside it). */
  strayRows(table: VouchedTable, size: number): Promise<StoredRow[]>;
  /** At most `limit` blobs after `afterDigest` (from the first without one), in order of digest: their digest and recorded size. */
  blobDigests(afterDigest: string | undefined, limit: number): Promise<{ digest: string; size: number }[]>;
}

/** The way in to writing, with `Tx` the roles a transaction callback may use. */
export interface Transactional<Tx> {
  /** Runs `fn` in one write transaction: all of it commits, or none of it. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
}

/** What the webhook dispatcher needs: the outbox, read outside transactions and written inside them. */
export interface WebhookOutbox extends OutboxReader, Transactional<OutboxWriter> {}

// ----------------------------------------------------------------------------------- compositions

/** Every read, outside a transaction (the `Store`) or inside one (its `tx`). */
export interface StoreReader extends RecordReader, AuditReader, TokenReader, PasskeyReader, OutboxReader, VouchReader {}

/**
 * A savepoint could not be rolled back: the database had already ended the transaction. Nothing of
 * the transaction stands; `cause` is the error that ended it.
 */
export class TransactionLost extends Error {
  constructor(cause: unknown) {
    super(`the transaction was lost: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'TransactionLost';
  }
}

/** A part of a transaction that can fail on its own: the rest of the transaction goes on. */
export interface Savepoints {
  /**
   * Runs `fn` under a savepoint: if it throws, what it wrote is undone (the transaction goes on
   * without it) and the error is rethrown. An error that ended the whole transaction (the database
   * rolled it back itself) is rethrown as it is, and the transaction then fails as a whole.
   */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
}

/** What a transaction callback gets: every read and every write, all in the one transaction. */
export interface StoreTx extends StoreReader, RecordWriter, AuditWriter, TokenWriter, PasskeyWriter, OutboxWriter, Savepoints {}

export interface Store extends StoreReader, Transactional<StoreTx> {
  readonly dialect: SqlDialectName;
  /**
   * A value that changes whenever anything is committed, by this process or another: what read
   * caches are keyed by. Read it before reading the data it guards: data read after it is at least
   * as new. Undefined when the store cannot tell (then nothing may be cached).
   */
  changeMarker(): Promise<string | undefined>;
  close(): Promise<void>;
}
