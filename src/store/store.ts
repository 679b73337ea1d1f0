/**
 * The Store interface: everything Tollgate keeps, behind one interface that SQLite (embedded default)
 * and PostgreSQL (scale-out) implement. Writes happen only inside `transaction`, so a state change and
 * its audit event commit together or not at all (DESIGN.md, rule 5).
 */
import type { AuditCheckpoint, AuditEvent, NewAuditEvent } from '../audit/events.js';
import type { Digest } from '../domain/digest.js';
import type {
  ChecklistCompletion,
  EvidenceSet,
  PolicyVersion,
  Promotion,
  Release,
  Signoff,
  ValidationResult,
} from '../domain/model.js';
export type { AuditCheckpoint, AuditEvent, NewAuditEvent };

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

export interface StoreReader {
  /** The newest applied policy version, or undefined before any `policy apply`. */
  activePolicy(): Promise<PolicyVersion | undefined>;
  policyVersion(version: number): Promise<PolicyVersion | undefined>;
  findRelease(subject: string, version: string): Promise<Release | undefined>;
  listReleases(filter?: { subject?: string }): Promise<Release[]>;
  /** All evidence recorded for a release digest, every stage, oldest first. */
  evidence(releaseDigest: Digest): Promise<EvidenceSet>;
  /** Promotions and rollbacks, oldest first. */
  promotions(filter?: { subject?: string; stage?: string; releaseDigest?: Digest }): Promise<Promotion[]>;
  /** The promotion that put the current holder into the stage. */
  stageHolder(subject: string, stage: string): Promise<Promotion | undefined>;
  blob(digest: Digest): Promise<Uint8Array | undefined>;
  /** The whole audit log in order of `seq`. */
  auditEvents(): Promise<AuditEvent[]>;
  auditHead(): Promise<{ size: number; head: string }>;
  latestCheckpoint(): Promise<AuditCheckpoint | undefined>;
  /** The token whose secret has this hex SHA-256, revoked and expired ones included. */
  findTokenByHash(hash: string): Promise<ApiToken | undefined>;
  /** Every token, oldest first. */
  listTokens(): Promise<ApiToken[]>;
}

export interface StoreTx extends StoreReader {
  /** Serializes promotions of one subject and stage (a row lock on PostgreSQL). */
  lockStage(subject: string, stage: string): Promise<void>;
  insertPolicy(p: Omit<PolicyVersion, 'version'>): Promise<PolicyVersion>;
  insertRelease(r: Release): Promise<void>;
  insertChecklist(c: ChecklistCompletion): Promise<void>;
  insertSignoff(s: Signoff): Promise<void>;
  insertValidation(v: ValidationResult): Promise<void>;
  /** Content-addressed: putting the same digest twice keeps one copy. */
  putBlob(digest: Digest, bytes: Uint8Array): Promise<void>;
  /** Records the promotion and makes its release the holder of the stage. */
  insertPromotion(p: Promotion): Promise<void>;
  /** Appends an event linked to the current head and returns it with `seq`, `prev` and `hash`. */
  appendAudit(e: NewAuditEvent): Promise<AuditEvent>;
  putCheckpoint(c: AuditCheckpoint): Promise<void>;
  insertToken(t: ApiToken): Promise<void>;
  /** Marks the token revoked at `at`; false when no token has that id. Revoking twice keeps the first time. */
  revokeToken(id: string, at: string): Promise<boolean>;
}

export interface Store extends StoreReader {
  readonly dialect: 'sqlite' | 'postgres';
  /** Runs `fn` in one write transaction: all of it commits, or none of it. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
