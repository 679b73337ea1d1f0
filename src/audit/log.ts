/**
 * The audit log's hash chain and checkpoints, as pure functions (no I/O). Each event's hash covers
 * its content and the previous event's hash, so an edit, a deletion or a reordering breaks the chain;
 * a deletion at the end leaves the chain whole, which is why the server also signs checkpoints
 * (`size`, `head`) that a truncated log can no longer reach (DESIGN.md, rule 5).
 */
import { canonicalJson, sha256Hex } from '../domain/digest.js';
import type { AuditCheckpoint, AuditEvent } from './events.js';

/** The `prev` of the first event: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hash of an event: sha256 hex of the canonical JSON of every field but `hash`, `prev` included. */
export function eventHash(e: Omit<AuditEvent, 'hash'>): string {
  return sha256Hex(canonicalJson({ seq: e.seq, at: e.at, actor: e.actor, type: e.type, data: e.data, prev: e.prev }));
}

/**
 * The exact bytes the server signs for a checkpoint. A fixed, line-based text rather than JSON so that
 * an auditor can rebuild it by hand; the version tag keeps a signature from being reused for another
 * kind of message.
 */
export function checkpointMessage(c: Pick<AuditCheckpoint, 'size' | 'head' | 'at'>): string {
  return `tollgate-audit-checkpoint/v1\n${c.size}\n${c.head}\n${c.at}\n`;
}

/** What `verifyAuditLog` found; `firstBad` names the first problem, in words a person can act on. */
export interface AuditVerification {
  readonly ok: boolean;
  /** How many events the log holds. */
  readonly events: number;
  /** The hash of the last event in the log, or `GENESIS_HASH` when it is empty. */
  readonly head: string;
  readonly firstBad?: { readonly seq: number; readonly reason: string };
}

/**
 * Verifies a whole audit log, given in order of `seq`, against the latest checkpoint.
 *
 * Checks, in order: every event is numbered one after the other from 1 (a gap is a deletion, a step
 * back a reordering), its hash matches its content (an edit), and it links to the event before it;
 * then that the checkpoint's signature verifies (`checkSignature` verifies it over
 * `checkpointMessage(c)` with the server key), and that the log still reaches the checkpoint and has
 * the signed hash there (a truncation or a rewrite of the history it covers). Without a checkpoint a
 * deletion of the last events cannot be told from a shorter log.
 */
export function verifyAuditLog(
  events: readonly AuditEvent[],
  checkpoint: AuditCheckpoint | undefined,
  checkSignature: (c: AuditCheckpoint) => boolean,
): AuditVerification {
  const head = events.length > 0 ? events[events.length - 1]!.hash : GENESIS_HASH;
  const fail = (seq: number, reason: string): AuditVerification => ({
    ok: false,
    events: events.length,
    head,
    firstBad: { seq, reason },
  });

  let prevHash = GENESIS_HASH;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const expected = i + 1;
    const name = `event ${e.seq} (${e.type})`;
    if (e.seq !== expected) {
      // A smaller number, or the expected one further down the log, means events were moved; a larger
      // number with the expected one nowhere means events were taken out.
      const movedHere = e.seq < expected || events.slice(i + 1).some((later) => later.seq === expected);
      if (movedHere) {
        return fail(
          expected,
          `${name} is out of order: event ${expected} should come here; events were reordered`,
        );
      }
      const one = e.seq - 1 === expected;
      const missing = one ? `event ${expected}` : `events ${expected} to ${e.seq - 1}`;
      const where = expected === 1 ? `the log starts at ${name}` : `${name} follows event ${expected - 1}`;
      return fail(expected, `${missing} ${one ? 'is' : 'are'} missing: ${where}, so ${one ? 'it was' : 'they were'} deleted`);
    }
    if (eventHash(e) !== e.hash) {
      return fail(e.seq, `${name} was changed: its hash does not match its content`);
    }
    if (e.prev !== prevHash) {
      const before = i === 0 ? 'the start of the log' : `event ${events[i - 1]!.seq}`;
      return fail(
        e.seq,
        `${name} does not link to ${before}: an event before it was changed, replaced or deleted`,
      );
    }
    prevHash = e.hash;
  }

  if (checkpoint === undefined) return { ok: true, events: events.length, head };

  const signed = `the checkpoint signed at ${checkpoint.at} (size ${checkpoint.size}, key ${checkpoint.keyId})`;
  let signatureOk: boolean;
  try {
    signatureOk = checkSignature(checkpoint);
  } catch {
    // A malformed signature or key is as bad as a wrong one: the checkpoint cannot be trusted.
    signatureOk = false;
  }
  if (!signatureOk) {
    return fail(
      checkpoint.size,
      `${signed} has a signature that does not verify: it was forged or changed, or the wrong server key was given`,
    );
  }
  if (events.length < checkpoint.size) {
    const gone =
      checkpoint.size === events.length + 1
        ? `event ${checkpoint.size} was deleted`
        : `events ${events.length + 1} to ${checkpoint.size} were deleted`;
    return fail(
      events.length + 1,
      `the log ends at event ${events.length} but ${signed} covers ${checkpoint.size} events: the log was truncated, ${gone}`,
    );
  }
  const atCheckpoint = checkpoint.size === 0 ? GENESIS_HASH : events[checkpoint.size - 1]!.hash;
  if (atCheckpoint !== checkpoint.head) {
    return fail(
      checkpoint.size,
      `event ${checkpoint.size} has another hash than ${signed} records: the history up to there was rewritten`,
    );
  }
  return { ok: true, events: events.length, head };
}
