/** The audit log's records: shared by the log's verification and every store that keeps them. */

/** One entry of the hash-linked audit log. `hash` covers every other field, `prev` included. */
export interface AuditEvent {
  readonly seq: number;
  readonly at: string;
  /** Typed actor: `user:alice`, `validator:drift`, `system`. */
  readonly actor: string;
  /** Past-tense event name: `ReleaseCreated`, `SignoffRecorded`, `ReleasePromoted` … */
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly prev: string;
  readonly hash: string;
}

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
