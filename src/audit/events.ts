/** The audit log's records: shared by the log's verification and every store that keeps them. */

/**
 * Every type of audit event Tollgate writes, past tense (STYLE.md rule 6). `change`'s `audit()`
 * accepts only these, and webhooks/events.ts must say for each which webhooks it raises (a switch
 * that fails to compile when one is missing), so a misspelt or forgotten type cannot silently send
 * nothing.
 */
export const AUDIT_EVENT_TYPES = [
  'PolicyApplied',
  'ReleaseCreated',
  'ChecklistItemCompleted',
  'ValidationRecorded',
  'SignoffRecorded',
  'ReleasePromoted',
  'PromotionBlocked',
  'ReleaseRolledBack',
  'ReleaseCleared',
  'RequirementWaived',
  'BreakGlassSignedOff',
  'IncidentOpened',
  'IncidentResolved',
  'HandoffRecorded',
  'ServerKeyRotated',
  'TokenCreated',
  'TokenRevoked',
  'PasskeyRegistered',
  'PasskeyRevoked',
  'WebhookCreated',
  'WebhookRemoved',
  'WebhookRedelivered',
  'AccessDenied',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** True for a type this version of Tollgate writes (a row read back may hold any string). */
export function isAuditEventType(type: string): type is AuditEventType {
  return (AUDIT_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * Who made a change: a roster user (`user:alice`), a validator (`validator:drift`), Tollgate itself
 * when nobody is named (`system`: `init`, a token issued on the home without `--as`), or, for a
 * refused request only, a caller the server could not name (`anonymous`).
 */
export type Actor = `user:${string}` | `validator:${string}` | 'system' | 'anonymous';

/** The actor of a change made for `user`: `user:alice`, or `system` when nobody is named. */
export function actorOf(user?: string): Actor {
  return user ? `user:${user}` : 'system';
}

/**
 * One entry of the hash-linked audit log. `hash` covers every other field, `prev` included.
 *
 * `type` and `actor` are plain strings here, not AuditEventType and Actor: this is what the log
 * holds as read back, and a row may come from an older or newer Tollgate or have been written by
 * hand. Verification must hash such a row exactly as stored and name it, not have it cast into a
 * vocabulary it does not belong to; code that acts on a type narrows it with isAuditEventType.
 * Writes are typed where they are made (`audit()` in service/change.ts).
 */
export interface AuditEvent {
  readonly seq: number;
  readonly at: string;
  /** An Actor when written by this version: `user:alice`, `validator:drift`, `system`. */
  readonly actor: string;
  /** An AuditEventType when written by this version: `ReleaseCreated`, `SignoffRecorded` … */
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly prev: string;
  readonly hash: string;
}

/**
 * The subject an event is about, as its data names it: `subject`, or the subject of `release`
 * (`SUBJECT@VERSION`); undefined for events about no release (a policy, a token, a webhook).
 */
export function eventSubject(event: Pick<AuditEvent, 'data'>): string | undefined {
  const { subject, release } = event.data;
  if (typeof subject === 'string') return subject;
  if (typeof release === 'string' && release.lastIndexOf('@') > 0) return release.slice(0, release.lastIndexOf('@'));
  return undefined;
}

/** An event as handed to the store, which keeps whatever it is given (the vocabulary is checked above it). */
export type NewAuditEvent = Pick<AuditEvent, 'at' | 'actor' | 'type' | 'data'>;

/** A signed statement by the server that the log had `size` events with `head` as the last hash. */
export interface AuditCheckpoint {
  readonly size: number;
  readonly head: string;
  readonly at: string;
  /** base64 Ed25519 signature by the server key over `checkpointMessage` (the hash chain's head). */
  readonly signature: string;
  readonly keyId: string;
  /** RFC 9162 Merkle root of the first `size` events, hex. */
  readonly root: string;
  /** The same checkpoint as a signed note (origin, size, base64 root, time): what is exported. */
  readonly note: string;
  /** Roots of the perfect subtrees that make up the tree, largest first, hex: extends it in O(log n). */
  readonly frontier: readonly string[];
}
