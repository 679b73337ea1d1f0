/**
 * `tollgate audit verify`: the full check of the record, in one streaming pass in bounded memory
 * (docs/state.md). The hash chain; the Merkle tree (every stored subtree recomputed, the newest
 * checkpoint's signature, size, head and root); the replay of the log's row claims against every
 * vouched table; every blob's bytes against its digest. And, given a checkpoint kept elsewhere, that
 * the log still extends it.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { checkpointMessage, checkpointProblem, createChainVerifier, GENESIS_HASH, type BadEvent } from '../audit/log.js';
import { emptyRoot, foldPieces, nodeHash, rootPieces } from '../audit/merkle.js';
import { createStateReplay, type RowFinding, type StoredRow } from '../audit/replay.js';
import { openCheckpoint } from '../audit/tree.js';
import { digestBytes } from '../domain/digest.js';
import { tollgateError } from '../domain/errors.js';
import { formatPublicKey, verifyBytes } from '../domain/keys.js';
import { claimsOf, VOUCHED_TABLES, type VouchedTable } from '../domain/records.js';
import { nodeKey } from '../store/audit-queries.js';
import type { StoreReader } from '../store/store.js';

export interface AuditVerifyResult {
  readonly ok: boolean;
  readonly events: number;
  readonly head: string;
  /** RFC 9162 Merkle root of the whole log, hex. */
  readonly root?: string;
  /** The first problem: an event (`seq`), or a row (`table`, `key`, `what`), with the reason. */
  readonly firstBad?: {
    readonly seq?: number;
    readonly table?: string;
    readonly key?: string;
    readonly what?: RowFinding['what'];
    readonly reason: string;
  };
  /** Every row the log does not vouch for (the first 1000), and how many there are. */
  readonly rows?: readonly RowFinding[];
  readonly badRows?: number;
  /** With `since`: the saved checkpoint that the log was shown to extend. */
  readonly since?: { readonly size: number; readonly root: string };
}

export interface AuditVerifyOptions {
  /** A checkpoint note kept elsewhere: the log must extend it (nothing it covers rewritten or cut). */
  readonly since?: string;
  /** Public keys that may have signed `since` (the server's current and earlier keys). */
  readonly keys?: readonly KeyObject[];
  /** Events read per page (default 2000): memory is bounded by a page and its rows. */
  readonly pageSize?: number;
}

/** Progress of a long verification, for a person at a terminal. */
export type VerifyProgress = (done: number) => void;

export async function verifyAudit(store: StoreReader, serverKey: KeyObject, opts: AuditVerifyOptions = {}, progress?: VerifyProgress): Promise<AuditVerifyResult> {
  const publicKey = serverKey.type === 'private' ? createPublicKey(serverKey) : serverKey;
  const pageSize = opts.pageSize ?? 2000;
  const checkpoint = await store.latestCheckpoint();
  const chain = createChainVerifier();
  const replay = createStateReplay();
  let headAtCheckpoint: string | undefined = checkpoint?.size === 0 ? GENESIS_HASH : undefined;
  // Reported after the checkpoint's own checks, which name a truncation or a rewrite more plainly.
  let leafBad: BadEvent | undefined;
  const badEvent = (bad: BadEvent): AuditVerifyResult => ({ ok: false, events: chain.size, head: chain.head, firstBad: bad });

  // 1. The chain, the leaves against the stored tree, and the claims against the rows, page by page.
  for (;;) {
    const page = await store.auditPage(chain.size, pageSize);
    if (page.length === 0) break;
    const from = chain.size + 1;
    const bad = chain.push(page);
    if (bad) return { ...badEvent(bad), events: from - 1 + page.length, head: page[page.length - 1]!.hash };
    const to = chain.size;
    // The stored leaves of the page as one range of the level (not a lookup per leaf), against the
    // leaf hashes the chain check computed with the events' hashes.
    const stored = new Map((await store.auditNodePage(0, from - 2, page.length)).map((n) => [n.idx, n.hash]));
    for (let i = 0; i < page.length; i++) {
      const e = page[i]!;
      if (!leafBad && !stored.get(e.seq - 1)?.equals(chain.leaves[i]!)) {
        leafBad = { seq: e.seq, reason: `the stored Merkle leaf of event ${e.seq} (${e.type}) is not the event's hash: audit_nodes was changed` };
      }
      if (checkpoint && e.seq === checkpoint.size) headAtCheckpoint = e.hash;
    }
    const rows = new Map<VouchedTable, StoredRow[]>();
    for (const table of VOUCHED_TABLES) rows.set(table, await store.rowsInRange(table, from, to));
    replay.page(
      page.map((e) => ({ seq: e.seq, type: e.type, claims: claimsOf(e.data) })),
      rows,
    );
    progress?.(to);
  }
  const size = chain.size;
  const head = chain.head;

  // 2. The newest checkpoint: signed by the server key, at the log's end, with the log's head.
  if (size > 0) {
    // Every change commits with a fresh checkpoint at its head, so a log without one, or with events
    // past the newest one, was written by something other than Tollgate.
    if (!checkpoint) return { ok: false, events: size, head, firstBad: { seq: 1, reason: 'the log has events but no signed checkpoint: the checkpoints were deleted' } };
  }
  if (checkpoint) {
    // The signature as Tollgate writes it (canonical base64): a decoder skips characters outside the
    // alphabet, so text with some added would still verify.
    const signed = (c: typeof checkpoint) => Buffer.from(c.signature, 'base64').toString('base64') === c.signature && verifyBytes(publicKey, checkpointMessage(c), c.signature);
    const problem = checkpointProblem(checkpoint, size, () => headAtCheckpoint ?? '', signed);
    if (problem) return { ok: false, events: size, head, firstBad: problem };
    if (checkpoint.size < size) {
      const extra = (await store.auditPage(checkpoint.size, 1))[0]!;
      return {
        ok: false,
        events: size,
        head,
        firstBad: { seq: extra.seq, reason: `event ${extra.seq} (${extra.type}) comes after the newest signed checkpoint (${checkpoint.size} events, ${checkpoint.at}): it was not written by Tollgate` },
      };
    }
  }

  // 3. The stored tree: its leaves (read above), then each level, each node the hash of its two
  // children; its root is the one the newest checkpoint signs.
  if (leafBad) return { ok: false, events: size, head, firstBad: leafBad };
  const treeBad = await checkStoredTree(store, size, pageSize);
  if (treeBad) return { ok: false, events: size, head, firstBad: treeBad };
  const root = await rootOf(store, size);

  if (checkpoint) {
    const note = openCheckpoint(checkpoint.note, publicKey);
    if (!note.ok) return { ok: false, events: size, head, firstBad: { seq: checkpoint.size, reason: `the newest checkpoint note does not verify with the server key: ${note.reason}` } };
    if (note.checkpoint.size !== size || !root.equals(Buffer.from(note.checkpoint.rootHash))) {
      return { ok: false, events: size, head, firstBad: { seq: checkpoint.size, reason: `the Merkle root of the ${size} events is not the one the newest checkpoint signs` } };
    }
    // What the signature does not cover but is still read: the key id it names, and the frontier the
    // next change grows the tree from (a changed one would have the next checkpoint sign a wrong root).
    if (checkpoint.root !== root.toString('hex')) {
      return { ok: false, events: size, head, firstBad: { seq: checkpoint.size, reason: `the newest checkpoint records root ${checkpoint.root}, not the root of the log's tree its note signs: audit_checkpoints was changed` } };
    }
    const keyId = digestBytes(formatPublicKey(publicKey)).slice(0, 'sha256:'.length + 16);
    if (checkpoint.keyId !== keyId) {
      return { ok: false, events: size, head, firstBad: { seq: checkpoint.size, reason: `the newest checkpoint names key ${checkpoint.keyId}, not the server key ${keyId} that signed it: audit_checkpoints was changed` } };
    }
    const edge = size === 0 ? [] : await rightEdge(store, size);
    if (checkpoint.frontier.length !== edge.length || checkpoint.frontier.some((h, i) => h !== edge[i])) {
      return { ok: false, events: size, head, firstBad: { seq: checkpoint.size, reason: "the newest checkpoint's frontier, from which the next change grows the tree, is not the right edge of the log's tree: audit_checkpoints was changed" } };
    }
  }

  // 4. Rows that name no event of the log, and claims whose rows are gone; then the blobs.
  for (const table of VOUCHED_TABLES) replay.strays(table, await store.strayRows(table, size), size);
  const { findings, total } = replay.finish();
  const blobs = await checkBlobs(store);
  const all = [...findings, ...blobs];
  const out = { ok: true, events: size, head, root: root.toString('hex') };
  if (all.length > 0) {
    const first = all[0]!;
    return {
      ...out,
      ok: false,
      firstBad: { table: first.table, key: first.key, what: first.what, reason: `${first.table} ${first.key} (${first.what}): ${first.reason}` },
      rows: all.slice(0, 1000),
      badRows: total + blobs.length,
    };
  }
  if (opts.since === undefined) return out;

  // 5. A checkpoint kept elsewhere: the log's first `size` events must have the root it signs. It may
  // predate a key rotation: any of the server's keys may have signed it.
  const keys = [publicKey, ...(opts.keys ?? [])];
  const tries = keys.map((k) => openCheckpoint(opts.since!, k));
  const opened = tries.find((o) => o.ok);
  const first = tries[0];
  // Text that is not a signed checkpoint at all is bad input (exit 2), not a log that fails to verify.
  if (!opened && first && !first.ok && (first.reason === 'the checkpoint has no signature line' || first.reason.startsWith('malformed note'))) {
    throw tollgateError('TG_USAGE', `--since: the file is not a checkpoint (${first.reason}); save one with \`tollgate audit checkpoint > FILE\``);
  }
  if (!opened || !opened.ok) return { ...out, ok: false, firstBad: { seq: 0, reason: 'the saved checkpoint is not signed by any of the server keys' } };
  const saved = opened.checkpoint;
  const savedRoot = Buffer.from(saved.rootHash);
  if (saved.size > size) {
    return { ...out, ok: false, firstBad: { seq: size + 1, reason: `the log has ${size} events, fewer than the ${saved.size} of the saved checkpoint: it was truncated` } };
  }
  if (!(await rootOf(store, saved.size)).equals(savedRoot)) {
    return { ...out, ok: false, firstBad: { seq: saved.size, reason: `the log does not extend the saved checkpoint (size ${saved.size}): events it covered were changed, removed or reordered` } };
  }
  return { ...out, since: { size: saved.size, root: savedRoot.toString('hex') } };
}

/**
 * Every stored subtree above the leaves (whose leaves step 1 checked against the events) is the hash
 * of its two children, level by level, and each level holds exactly the complete subtrees of a tree of
 * `size` leaves, no more. Streams each level beside the one below it.
 */
async function checkStoredTree(store: StoreReader, size: number, pageSize: number): Promise<BadEvent | undefined> {
  // Levels and indexes the walk below never reads: none may hold a node (the top level of a tree of
  // `size` leaves is the highest with a complete subtree).
  const bounds = await store.auditNodeBounds();
  let top = -1;
  while (Math.floor(size / 2 ** (top + 1)) > 0) top++;
  if (bounds && (bounds.minLevel < 0 || bounds.maxLevel > top || bounds.minIdx < 0)) {
    return { seq: 1, reason: `audit_nodes holds a subtree at level ${bounds.minLevel < 0 ? bounds.minLevel : bounds.maxLevel > top ? bounds.maxLevel : `${bounds.minLevel}, index ${bounds.minIdx}`} that a log of ${size} events does not have: it was changed` };
  }
  // Leaves 0 to size - 1 were each read and checked with their events (step 1): only leaves past the
  // log's end are left to count.
  const leaves = size + (await countLevel(store, 0, pageSize, size - 1));
  if (leaves !== size) return { seq: Math.min(leaves, size) + 1, reason: `audit_nodes holds ${leaves} leaves for a log of ${size} events: it was changed` };
  for (let level = 1; Math.floor(size / 2 ** level) > 0; level++) {
    const want = Math.floor(size / 2 ** level);
    const lower = levelNodes(store, level - 1, pageSize);
    const upper = levelNodes(store, level, pageSize);
    for (let i = 0; i < want; i++) {
      const left = (await lower.next()).value;
      const right = (await lower.next()).value;
      const node = (await upper.next()).value;
      const first = i * 2 ** level + 1;
      if (!left || !right || !node || left.idx !== 2 * i || right.idx !== 2 * i + 1 || node.idx !== i || !nodeHash(left.hash, right.hash).equals(node.hash)) {
        return { seq: first, reason: `audit_nodes ${level}/${i} (the subtree from event ${first}) is missing or not the hash of its children: it was changed` };
      }
    }
    const extra = (await upper.next()).value;
    if (extra) return { seq: 1, reason: `audit_nodes holds a subtree ${level}/${extra.idx} that a log of ${size} events does not have: it was changed` };
  }
  return undefined;
}

async function* levelNodes(store: StoreReader, level: number, pageSize: number, after = -1): AsyncGenerator<{ idx: number; hash: Buffer }> {
  for (;;) {
    const page = await store.auditNodePage(level, after, pageSize);
    if (page.length === 0) return;
    yield* page;
    after = page[page.length - 1]!.idx;
  }
}

/** How many stored subtrees of one level come after index `after`. */
async function countLevel(store: StoreReader, level: number, pageSize: number, after: number): Promise<number> {
  let count = 0;
  for await (const _ of levelNodes(store, level, pageSize, after)) count++;
  return count;
}

/** The complete subtrees of a tree of `size` leaves, largest first, as hex: what a checkpoint's frontier holds. */
async function rightEdge(store: StoreReader, size: number): Promise<string[]> {
  const pieces = rootPieces(size);
  const nodes = await store.auditNodes(pieces);
  return pieces.map((p) => nodes.get(nodeKey(p.level, p.index))?.toString('hex') ?? '');
}

/** The root of the first `size` leaves, from the stored subtrees (checked by then). */
async function rootOf(store: StoreReader, size: number): Promise<Buffer> {
  if (size === 0) return emptyRoot();
  const pieces = rootPieces(size);
  const nodes = await store.auditNodes(pieces);
  return foldPieces(pieces.map((p) => nodes.get(nodeKey(p.level, p.index))!));
}

/** Every blob's bytes against the digest it is kept under. */
async function checkBlobs(store: StoreReader): Promise<RowFinding[]> {
  const out: RowFinding[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.blobDigests(after, 100);
    if (page.length === 0) return out;
    for (const { digest, size } of page) {
      // A blob is kept under the digest of its bytes; SQLite even lets a text key be NULL.
      if (typeof digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
        out.push({ table: 'blobs', key: String(digest), what: 'edited', reason: `it is kept under ${JSON.stringify(digest)}, which is not a digest of its bytes` });
        continue;
      }
      const bytes = await store.blob(digest as `sha256:${string}`);
      if (!bytes) continue;
      const actual = digestBytes(bytes);
      if (actual !== digest || bytes.byteLength !== size) {
        out.push({ table: 'blobs', key: digest, what: 'edited', reason: `its bytes have digest ${actual} (${bytes.byteLength} bytes), not the ${digest} (${size} bytes) they are kept under` });
      }
    }
    after = page[page.length - 1]!.digest;
  }
}
