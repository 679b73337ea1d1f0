/**
 * The Merkle tree of RFC 9162 (Certificate Transparency v2) §2.1, as pure functions (no I/O).
 *
 * Why this tree and not an ad-hoc one: a checkpoint that commits to an RFC 9162 root can be checked
 * by any transparency-log tooling (inclusion and consistency proofs, witnesses), and the proofs are
 * logarithmic, so an auditor can confirm one event, or that the log only grew, without the whole log.
 *
 * Bytes: every function accepts any `Uint8Array` (a `Buffer` is one) and every hash it returns is a
 * fresh 32-byte `Buffer`, so callers may keep or change it without touching any state here.
 *
 * Verification (`verifyInclusion`, `verifyConsistency`) answers a boolean and never throws: a proof
 * comes from outside, and a malformed one (wrong length, index out of range, hash of the wrong size,
 * not even an array) is just a proof that does not verify. Generation (`inclusionProof`,
 * `consistencyProof`, `createMerkleTree`) throws a RangeError for impossible arguments, because those
 * come from our own code and mean a bug.
 */
import { hash as digest } from 'node:crypto';

/** Bytes in every hash of the tree: SHA-256, the hash RFC 9162 §2.1 uses. */
export const HASH_SIZE = 32;

// One-shot crypto.hash over one buffer: a log of ~1e5 events hashes ~2e5 times per full rebuild, and
// this is about twice as fast as createHash().update()…digest() (measured on Node 20).
function sha256(bytes: Uint8Array): Buffer {
  return digest('sha256', bytes, 'buffer');
}

/** MTH({}) = SHA-256 of the empty string (RFC 9162 §2.1.1): the root of a tree with no leaves. */
export function emptyRoot(): Buffer {
  return sha256(new Uint8Array(0));
}

/**
 * The hash of a leaf: SHA-256(0x00 || data) (RFC 9162 §2.1.1). The 0x00 prefix, distinct from the
 * 0x01 of interior nodes, is what stops a leaf from being passed off as a subtree (second preimage).
 */
export function leafHash(data: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(1 + data.length);
  bytes[0] = 0x00;
  bytes.set(data, 1);
  return sha256(bytes);
}

/** The hash of an interior node: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const bytes = Buffer.allocUnsafe(1 + left.length + right.length);
  bytes[0] = 0x01;
  bytes.set(left, 1);
  bytes.set(right, 1 + left.length);
  return sha256(bytes);
}

/**
 * MTH(D[n]) from the leaf hashes (RFC 9162 §2.1.1), in one pass and O(log n) memory.
 *
 * Equivalent to the recursive definition (split at the largest power of two smaller than n): the
 * stack holds the roots of the complete subtrees so far, largest first, and those are exactly the
 * left halves of the successive splits, so folding them right to left gives MTH.
 */
export function rootFromLeafHashes(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return emptyRoot();
  const stack: Uint8Array[] = [];
  for (let i = 0; i < hashes.length; i++) {
    let h = hashes[i]!;
    // Each 1 bit at the bottom of i is a complete subtree that this leaf now pairs with.
    for (let c = i; c % 2 === 1; c = (c - 1) / 2) h = nodeHash(stack.pop()!, h);
    stack.push(h);
  }
  let root = stack.pop()!;
  while (stack.length > 0) root = nodeHash(stack.pop()!, root);
  return Buffer.from(root);
}

/** The inclusion proof PATH(index, D[n]) for the tree of these leaf hashes (RFC 9162 §2.1.3.1). */
export function inclusionProof(index: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  return createMerkleTree(leafHashes).inclusionProof(index);
}

/**
 * The consistency proof PROOF(oldSize, D[n]) = SUBPROOF(oldSize, D[n], true) from the tree of the
 * first `oldSize` leaves to the tree of all of them (RFC 9162 §2.1.4.1). Empty when `oldSize` is 0 or
 * n: the RFC defines proofs for 0 < m < n only, and those two cases need no proof.
 */
export function consistencyProof(oldSize: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  return createMerkleTree(leafHashes).consistencyProof(oldSize);
}

/**
 * A growing tree that keeps every complete subtree's hash, so roots and proofs for the current or any
 * earlier size cost O(log n) hashes after an O(1) amortised `append`. For a log that serves proofs
 * while it grows; the one-shot functions above build one of these.
 */
export interface MerkleTree {
  /** Number of leaves. */
  readonly size: number;
  /** Adds a leaf by its hash (see `leafHash`) and returns its index. */
  append(leafHash: Uint8Array): number;
  /** MTH of the first `size` leaves (default: all). */
  root(size?: number): Buffer;
  /** PATH(index, D[size]) (RFC 9162 §2.1.3.1) in the tree of the first `size` leaves (default: all). */
  inclusionProof(index: number, size?: number): Buffer[];
  /** PROOF(oldSize, D[newSize]) (RFC 9162 §2.1.4.1); `newSize` defaults to all leaves. */
  consistencyProof(oldSize: number, newSize?: number): Buffer[];
}

/** Creates a `MerkleTree`, optionally with initial leaf hashes (each must be 32 bytes). */
export function createMerkleTree(leafHashes: Iterable<Uint8Array> = []): MerkleTree {
  // levels[l][j] is the root of the complete subtree of 2^l leaves starting at leaf j * 2^l.
  const levels: Buffer[][] = [[]];

  const append = (hash: Uint8Array): number => {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
      throw new RangeError(`a leaf hash must be ${HASH_SIZE} bytes; hash the leaf data with leafHash() first`);
    }
    const leaves = levels[0]!;
    leaves.push(Buffer.from(hash));
    const index = leaves.length - 1;
    // Completing a right child completes its parent too: carry up while the index is odd.
    for (let l = 0, j = index; j % 2 === 1; l++, j = (j - 1) / 2) {
      const level = levels[l]!;
      (levels[l + 1] ??= []).push(nodeHash(level[j - 1]!, level[j]!));
    }
    return index;
  };

  /**
   * MTH(D[lo:hi]) from stored subtrees. Only called for ranges of the RFC's recursion, whose `lo` is a
   * multiple of a power of two at least hi - lo, so the pieces of its binary decomposition, largest
   * first, are all stored complete subtrees; folded right to left they give MTH, as in
   * rootFromLeafHashes.
   */
  const rangeRoot = (lo: number, hi: number): Buffer => foldPieces(rangePieces(lo, hi).map((n) => levels[n.level]![n.index]!));

  const checkSize = (size: number): void => {
    const n = levels[0]!.length;
    if (!Number.isSafeInteger(size) || size < 0 || size > n) {
      throw new RangeError(`tree size ${size} is not between 0 and the ${n} leaves of the tree`);
    }
  };

  for (const h of leafHashes) append(h);

  return {
    get size() {
      return levels[0]!.length;
    },
    append,

    root(size = levels[0]!.length) {
      checkSize(size);
      return size === 0 ? emptyRoot() : Buffer.from(rangeRoot(0, size));
    },

    inclusionProof(index, size = levels[0]!.length) {
      checkSize(size);
      return inclusionProofPlan(index, size).map((pieces) => Buffer.from(foldPieces(pieces.map((n) => levels[n.level]![n.index]!))));
    },

    consistencyProof(oldSize, newSize = levels[0]!.length) {
      checkSize(newSize);
      if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize) {
        throw new RangeError(`old tree size ${oldSize} is not between 0 and the new size ${newSize}`);
      }
      if (oldSize === 0 || oldSize === newSize) return [];
      // SUBPROOF(m, D[lo:hi], b), unrolled the same way as PATH; `complete` is the RFC's b, true while
      // the subtree at hand is still the old tree itself, whose root the verifier already has.
      const proof: Buffer[] = [];
      let lo = 0;
      let hi = newSize;
      let complete = true;
      for (;;) {
        if (oldSize - lo === hi - lo) {
          if (!complete) proof.push(rangeRoot(lo, hi));
          break;
        }
        const k = largestPowerOfTwoBelow(hi - lo);
        if (oldSize - lo <= k) {
          proof.push(rangeRoot(lo + k, hi));
          hi = lo + k;
        } else {
          proof.push(rangeRoot(lo, lo + k));
          lo += k;
          complete = false;
        }
      }
      return proof.reverse().map((h) => Buffer.from(h));
    },
  };
}

/** A complete subtree of a tree: the root of leaves `index * 2^level` to `(index + 1) * 2^level - 1`. */
export interface SubtreeRef {
  readonly level: number;
  readonly index: number;
}

/**
 * The complete subtrees whose roots MTH(D[lo:hi]) folds. Only for ranges of the RFC's recursion, whose
 * `lo` is a multiple of a power of two at least hi - lo, so the pieces of its binary decomposition,
 * largest first, are all complete subtrees; folded right to left they give MTH, as in rootFromLeafHashes.
 */
function rangePieces(lo: number, hi: number): SubtreeRef[] {
  const pieces: SubtreeRef[] = [];
  let pos = lo;
  while (pos < hi) {
    let width = 1;
    let level = 0;
    while (width * 2 <= hi - pos) {
      width *= 2;
      level++;
    }
    pieces.push({ level, index: pos / width });
    pos += width;
  }
  return pieces;
}

/** The complete subtrees whose roots, folded (see foldPieces), give MTH of the first `size` leaves. */
export function rootPieces(size: number): SubtreeRef[] {
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`a tree of ${size} leaves has no pieces`);
  return rangePieces(0, size);
}

/** MTH of a range from the roots of its pieces (see rangePieces), largest first. */
export function foldPieces(pieces: readonly Uint8Array[]): Buffer {
  let root: Buffer = Buffer.from(pieces[pieces.length - 1]!);
  for (let i = pieces.length - 2; i >= 0; i--) root = nodeHash(pieces[i]!, root);
  return root;
}

/**
 * PATH(index, D[size]) (RFC 9162 §2.1.3.1) as the complete subtrees each element of the proof folds
 * (see foldPieces), so a log that stores its complete subtrees (`audit_nodes`) can answer with
 * O(log² n) lookups instead of reading every leaf. The proof starts next to the leaf.
 */
export function inclusionProofPlan(index: number, size: number): SubtreeRef[][] {
  if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new RangeError(`leaf index ${index} is not in a tree of ${size} leaves`);
  }
  // PATH walks from the root down, and each step appends the sibling *after* the deeper path, so
  // collect top-down and reverse.
  const path: SubtreeRef[][] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      path.push(rangePieces(lo + k, hi));
      hi = lo + k;
    } else {
      path.push(rangePieces(lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/**
 * The complete subtrees that appending leaf `index` completes, bottom up: the leaf itself (level 0),
 * then each parent whose right child it completes. What a log that stores its tree writes per event.
 */
export function completedBy(index: number): SubtreeRef[] {
  const out: SubtreeRef[] = [{ level: 0, index }];
  for (let l = 0, j = index; j % 2 === 1; l++, j = (j - 1) / 2) out.push({ level: l + 1, index: (j - 1) / 2 });
  return out;
}

/** What `verifyInclusion` checks: that the leaf with this hash is at `index` in the tree `root`, of `size` leaves. */
export interface InclusionClaim {
  readonly index: number;
  readonly size: number;
  readonly leafHash: Uint8Array;
  readonly proof: readonly Uint8Array[];
  readonly root: Uint8Array;
}

/**
 * Verifies an inclusion proof by the algorithm of RFC 9162 §2.1.3.2, step for step (not by
 * recomputing the tree). True only if the proof verifies; false for anything else, malformed input
 * included (never throws).
 */
export function verifyInclusion(claim: InclusionClaim): boolean {
  try {
    const { index, size, leafHash: hash, proof, root } = claim;
    if (!isCount(index) || !isCount(size) || !isHash(hash) || !isHash(root) || !isHashList(proof)) return false;
    // 1. The leaf index must be inside the tree.
    if (index >= size) return false;
    // 2., 3.
    let fn = index;
    let sn = size - 1;
    let r: Uint8Array = hash;
    // 4.
    for (const p of proof) {
      // A proof longer than the path from the leaf to the root.
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = nodeHash(p, r);
        // The last node of its level with no right sibling: climb past the levels where it is
        // carried up unchanged.
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        r = nodeHash(r, p);
      }
      fn = half(fn);
      sn = half(sn);
    }
    // 5. A proof shorter than the path leaves sn above 0.
    return sn === 0 && equalBytes(r, root);
  } catch {
    return false;
  }
}

/** What `verifyConsistency` checks: that the tree `newRoot` of `newSize` leaves extends the tree `oldRoot` of `oldSize`. */
export interface ConsistencyClaim {
  readonly oldSize: number;
  readonly newSize: number;
  readonly oldRoot: Uint8Array;
  readonly newRoot: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

/**
 * Verifies a consistency proof by the algorithm of RFC 9162 §2.1.4.2, step for step. True only if
 * the proof verifies; false for anything else, malformed input included (never throws).
 *
 * The RFC's algorithm is for 0 < oldSize < newSize. Outside that range, as in transparency-dev/merkle
 * and what `consistencyProof` produces: equal sizes verify with an empty proof and equal roots; an
 * old size of 0 verifies with an empty proof, and here only when `oldRoot` is MTH({}) (the empty tree
 * has exactly one root); a new size smaller than the old one never verifies.
 */
export function verifyConsistency(claim: ConsistencyClaim): boolean {
  try {
    const { oldSize, newSize, oldRoot, newRoot, proof } = claim;
    if (!isCount(oldSize) || !isCount(newSize) || !isHash(oldRoot) || !isHash(newRoot) || !isHashList(proof)) {
      return false;
    }
    if (oldSize > newSize) return false;
    if (oldSize === newSize) return proof.length === 0 && equalBytes(oldRoot, newRoot);
    if (oldSize === 0) return proof.length === 0 && equalBytes(oldRoot, emptyRoot());

    // 1.
    if (proof.length === 0) return false;
    // 2. When the old tree is a complete subtree, the proof leaves out its root: the verifier has it.
    const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
    // 3.
    let fn = oldSize - 1;
    let sn = newSize - 1;
    // 4. Skip the levels where the old tree's last node is a right child inside a complete subtree
    // of the old tree: the proof starts above them.
    while (fn % 2 === 1) {
      fn = half(fn);
      sn = half(sn);
    }
    // 5.
    let fr: Uint8Array = path[0]!;
    let sr: Uint8Array = path[0]!;
    // 6.
    for (let i = 1; i < path.length; i++) {
      const c = path[i]!;
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        // A node to the right of the old tree: only the new tree has it.
        sr = nodeHash(sr, c);
      }
      fn = half(fn);
      sn = half(sn);
    }
    // 7.
    return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
  } catch {
    return false;
  }
}

/** The largest power of two smaller than n, for n >= 2: the RFC's split point k. */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

// Sizes come from outside and may exceed 2^31, so shift by division: bitwise operators would
// truncate them to 32 bits. Exact for every safe integer, which isCount guarantees.
function half(n: number): number {
  return Math.floor(n / 2);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

function isHashList(list: unknown): list is readonly Uint8Array[] {
  return Array.isArray(list) && list.every(isHash);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}
