/**
 * The audit log's hash chain and checkpoints, as pure functions (no I/O). Each event's hash covers
 * its content and the previous event's hash, so an edit, a deletion or a reordering breaks the chain;
 * a deletion at the end leaves the chain whole, which is why the server also signs checkpoints
 * (`size`, `head`) that a truncated log can no longer reach (DESIGN.md, rule 5).
 */
import { canonicalJson, sha256Hex } from '../domain/digest.js';
import type { AuditCheckpoint, AuditEvent } from './events.js';
import { leafHash } from './merkle.js';

/** The `prev` of the first event: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hash of an event: sha256 hex of the canonical JSON of every field but `hash`, `prev` included. */
export function eventHash(e: Omit<AuditEvent, 'hash'>): string {
  return sha256Hex(canonicalEventTexts(e, false).unhashed);
}

/**
 * The canonical JSON (RFC 8785) of an event's fields, with `hash` or without: what the Merkle leaf
 * (`auditLeafHash`) and `eventHash` hash. See `canonicalEventTexts`.
 */
export function canonicalEventJson(e: Omit<AuditEvent, 'hash'> & { readonly hash?: string }, withHash = false): string {
  const texts = canonicalEventTexts(e, withHash);
  return withHash ? texts.hashed! : texts.unhashed;
}

/**
 * The two canonical JSON texts of an event, `unhashed` (every field but `hash`: what `eventHash`
 * hashes) and `hashed` (every field: the Merkle leaf), from one canonicalisation of `data`, which is
 * most of the cost of either (a verification hashes every event both ways). Assembled around the
 * canonical `data`: RFC 8785 orders these ASCII keys as written here and writes a string or a safe
 * integer as JSON.stringify does, so each text is canonicalJson's own; fields of any other type (only a
 * row edited by hand could have them) go through canonicalJson whole. `hashed` is left out unless
 * asked for.
 */
export function canonicalEventTexts(e: Omit<AuditEvent, 'hash'> & { readonly hash?: string }, withHash = true): { unhashed: string; hashed?: string } {
  const fields = { seq: e.seq, at: e.at, actor: e.actor, type: e.type, data: e.data, prev: e.prev };
  const plain =
    typeof e.actor === 'string' &&
    typeof e.at === 'string' &&
    typeof e.prev === 'string' &&
    typeof e.type === 'string' &&
    Number.isSafeInteger(e.seq) &&
    typeof e.data === 'object' &&
    e.data !== null;
  const head = plain ? `{"actor":${JSON.stringify(e.actor)},"at":${JSON.stringify(e.at)},"data":${canonicalJson(e.data)},` : '';
  const tail = `"prev":${JSON.stringify(e.prev)},"seq":${e.seq},"type":${JSON.stringify(e.type)}}`;
  const unhashed = plain ? head + tail : canonicalJson(fields);
  if (!withHash) return { unhashed };
  const hashed = plain && typeof e.hash === 'string' ? `${head}"hash":${JSON.stringify(e.hash)},${tail}` : canonicalJson({ ...fields, hash: e.hash });
  return { unhashed, hashed };
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

/** The first problem a chain check found: the event it is at, in words a person can act on. */
export interface BadEvent {
  readonly seq: number;
  readonly reason: string;
}

/**
 * The hash chain checked as it streams past, page by page in order of `seq`, so a log of any length
 * is checked in bounded memory: every event is numbered one after the other from 1 (a gap is a
 * deletion, a step back a reordering), its hash matches its content (an edit), and it links to the
 * event before it.
 */
export interface ChainVerifier {
  /** Checks the next page of events; the first problem, or undefined when every event holds. */
  push(page: readonly AuditEvent[]): BadEvent | undefined;
  /** How many events were checked. */
  readonly size: number;
  /** The hash of the last event checked (`GENESIS_HASH` before any). */
  readonly head: string;
  /**
   * The Merkle leaf hash (`auditLeafHash`) of each event of the last page pushed, in order, up to the
   * first bad one: computed with the event's hash from one canonicalisation (`canonicalEventTexts`).
   */
  readonly leaves: readonly Buffer[];
}

export function createChainVerifier(): ChainVerifier {
  let size = 0;
  let head = GENESIS_HASH;
  let leaves: Buffer[] = [];
  return {
    get size() {
      return size;
    },
    get head() {
      return head;
    },
    get leaves() {
      return leaves;
    },
    push(page) {
      leaves = [];
      for (let i = 0; i < page.length; i++) {
        const e = page[i]!;
        const expected = size + 1;
        const name = `event ${e.seq} (${e.type})`;
        if (e.seq !== expected) {
          // A smaller number, or the expected one further down the page, means events were moved; a
          // larger number with the expected one nowhere means events were taken out.
          const movedHere = e.seq < expected || page.slice(i + 1).some((later) => later.seq === expected);
          if (movedHere) return { seq: expected, reason: `${name} is out of order: event ${expected} should come here; events were reordered` };
          const one = e.seq - 1 === expected;
          const missing = one ? `event ${expected}` : `events ${expected} to ${e.seq - 1}`;
          const where = expected === 1 ? `the log starts at ${name}` : `${name} follows event ${expected - 1}`;
          return { seq: expected, reason: `${missing} ${one ? 'is' : 'are'} missing: ${where}, so ${one ? 'it was' : 'they were'} deleted` };
        }
        const texts = canonicalEventTexts(e);
        if (sha256Hex(texts.unhashed) !== e.hash) return { seq: e.seq, reason: `${name} was changed: its hash does not match its content` };
        leaves.push(leafHash(Buffer.from(texts.hashed!, 'utf8')));
        if (e.prev !== head) {
          const before = size === 0 ? 'the start of the log' : `event ${size}`;
          return { seq: e.seq, reason: `${name} does not link to ${before}: an event before it was changed, replaced or deleted` };
        }
        head = e.hash;
        size = expected;
      }
      return undefined;
    },
  };
}

/**
 * Verifies a whole audit log, given in order of `seq`, against the latest checkpoint.
 *
 * Checks, in order: the hash chain (see `createChainVerifier`), then that the checkpoint's signature
 * verifies (`checkSignature` verifies it over `checkpointMessage(c)` with the server key), and that the
 * log still reaches the checkpoint and has the signed hash there (a truncation or a rewrite of the
 * history it covers). Without a checkpoint a deletion of the last events cannot be told from a
 * shorter log.
 */
export function verifyAuditLog(
  events: readonly AuditEvent[],
  checkpoint: AuditCheckpoint | undefined,
  checkSignature: (c: AuditCheckpoint) => boolean,
): AuditVerification {
  const head = events.length > 0 ? events[events.length - 1]!.hash : GENESIS_HASH;
  const fail = (seq: number, reason: string): AuditVerification => ({ ok: false, events: events.length, head, firstBad: { seq, reason } });
  const bad = createChainVerifier().push(events);
  if (bad) return fail(bad.seq, bad.reason);
  if (checkpoint === undefined) return { ok: true, events: events.length, head };
  const problem = checkpointProblem(checkpoint, events.length, (size) => (size === 0 ? GENESIS_HASH : events[size - 1]!.hash), checkSignature);
  return problem ? fail(problem.seq, problem.reason) : { ok: true, events: events.length, head };
}

/**
 * What is wrong between a log of `size` events and its checkpoint, if anything: a signature that
 * does not verify, a log that no longer reaches the checkpoint, or another hash where it signed one.
 * `hashAt(n)` is the hash of event `n` (only asked for n <= size).
 */
export function checkpointProblem(
  checkpoint: AuditCheckpoint,
  size: number,
  hashAt: (n: number) => string,
  checkSignature: (c: AuditCheckpoint) => boolean,
): BadEvent | undefined {
  const signed = `the checkpoint signed at ${checkpoint.at} (size ${checkpoint.size}, key ${checkpoint.keyId})`;
  let signatureOk: boolean;
  try {
    signatureOk = checkSignature(checkpoint);
  } catch {
    // A malformed signature or key is as bad as a wrong one: the checkpoint cannot be trusted.
    signatureOk = false;
  }
  if (!signatureOk) {
    return { seq: checkpoint.size, reason: `${signed} has a signature that does not verify: it was forged or changed, or the wrong server key was given` };
  }
  if (size < checkpoint.size) {
    const gone = checkpoint.size === size + 1 ? `event ${checkpoint.size} was deleted` : `events ${size + 1} to ${checkpoint.size} were deleted`;
    return { seq: size + 1, reason: `the log ends at event ${size} but ${signed} covers ${checkpoint.size} events: the log was truncated, ${gone}` };
  }
  if (hashAt(checkpoint.size) !== checkpoint.head) {
    return { seq: checkpoint.size, reason: `event ${checkpoint.size} has another hash than ${signed} records: the history up to there was rewritten` };
  }
  return undefined;
}
