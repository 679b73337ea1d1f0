import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  HASH_SIZE,
  completedBy,
  consistencyProof,
  createMerkleTree,
  emptyRoot,
  foldPieces,
  inclusionProof,
  inclusionProofPlan,
  leafHash,
  nodeHash,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
  type ConsistencyClaim,
  type InclusionClaim,
} from './merkle.js';

// ---------------------------------------------------------------------------------------------------
// An independent reference, written straight from the recursive definitions of RFC 9162 §2.1 and
// deliberately naive: it works on the leaf *data* D[n], slices arrays, recomputes every subtree, and
// shares no code with the module (its own hashing, its own split point).
// ---------------------------------------------------------------------------------------------------

const H = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

/** k: the largest power of two smaller than n (n > 1), by floating point rather than by doubling. */
const split = (n: number): number => 2 ** Math.floor(Math.log2(n - 1));

/** MTH(D[n]), §2.1.1. */
function MTH(D: readonly Buffer[]): Buffer {
  const n = D.length;
  if (n === 0) return H();
  if (n === 1) return H(Buffer.of(0x00), D[0]!);
  const k = split(n);
  return H(Buffer.of(0x01), MTH(D.slice(0, k)), MTH(D.slice(k)));
}

/** PATH(m, D[n]), §2.1.3.1. */
function PATH(m: number, D: readonly Buffer[]): Buffer[] {
  const n = D.length;
  if (n === 1) return [];
  const k = split(n);
  return m < k ? [...PATH(m, D.slice(0, k)), MTH(D.slice(k))] : [...PATH(m - k, D.slice(k)), MTH(D.slice(0, k))];
}

/** SUBPROOF(m, D[n], b), §2.1.4.1. */
function SUBPROOF(m: number, D: readonly Buffer[], b: boolean): Buffer[] {
  const n = D.length;
  if (m === n) return b ? [] : [MTH(D)];
  const k = split(n);
  return m <= k
    ? [...SUBPROOF(m, D.slice(0, k), b), MTH(D.slice(k))]
    : [...SUBPROOF(m - k, D.slice(k), false), MTH(D.slice(0, k))];
}

/** PROOF(m, D[n]), §2.1.4.1. */
const PROOF = (m: number, D: readonly Buffer[]): Buffer[] => SUBPROOF(m, D, true);

// ---------------------------------------------------------------------------------------------------

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const hexes = (list: readonly Uint8Array[]): string[] => list.map(hex);
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

/** Leaf data of varied lengths, the empty leaf included. */
const leafData = (count: number): Buffer[] =>
  Array.from({ length: count }, (_, i) => Buffer.from(`event ${i}`.repeat(i % 4)));

/** A small seeded PRNG (mulberry32), so a failing random case can be replayed. */
function prng(seed: number): (below: number) => number {
  let a = seed >>> 0;
  return (below) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

/** A copy of `h` with one bit flipped. */
function flip(h: Uint8Array, byte = 0, bit = 3): Buffer {
  const out = Buffer.from(h);
  out[byte % out.length]! ^= 1 << bit;
  return out;
}

const ZERO_HASH = Buffer.alloc(HASH_SIZE);

/** Every way an honest inclusion proof can be spoiled; none of them may verify. */
function spoiledInclusions(c: InclusionClaim, otherRoot: Buffer): [string, InclusionClaim][] {
  const { index, size, proof, root, leafHash: leaf } = c;
  const probes: [string, InclusionClaim][] = [
    ['index - 1', { ...c, index: index - 1 }],
    ['index + 1', { ...c, index: index + 1 }],
    ['size * 2', { ...c, size: size * 2 }],
    ['size / 2', { ...c, size: Math.floor(size / 2) }],
    ['wrong leaf', { ...c, leafHash: flip(leaf) }],
    ['root of another size', { ...c, root: otherRoot }],
    ['flipped root', { ...c, root: flip(root, 31, 0) }],
    ['proof extended by the root', { ...c, proof: [...proof, root] }],
    ['proof extended by a zero hash', { ...c, proof: [...proof, ZERO_HASH] }],
    ['proof prefixed by the root', { ...c, proof: [root, ...proof] }],
    ['short proof element', { ...c, proof: proof.length ? [proof[0]!.subarray(1), ...proof.slice(1)] : [Buffer.alloc(31)] }],
  ];
  if ((index ^ 2) !== index) probes.push(['index ^ 2', { ...c, index: index ^ 2 }]);
  if (size > 1) probes.push(['leaf and root swapped', { ...c, leafHash: root, root: leaf }]);
  if (proof.length > 0) probes.push(['proof truncated', { ...c, proof: proof.slice(0, -1) }]);
  if (proof.length > 1) probes.push(['element inserted', { ...c, proof: [proof[0]!, ZERO_HASH, ...proof.slice(1)] }]);
  if (proof.length > 1) probes.push(['elements swapped', { ...c, proof: [proof[1]!, proof[0]!, ...proof.slice(2)] }]);
  proof.forEach((_, i) => {
    for (const [byte, bit] of [[0, 3], [i * 7 + 5, i % 8], [31, 7]] as const) {
      const bad = [...proof];
      bad[i] = flip(bad[i]!, byte, bit);
      probes.push([`proof[${i}] byte ${byte % 32} bit ${bit} flipped`, { ...c, proof: bad }]);
    }
  });
  return probes;
}

/** Every way an honest, non-empty consistency proof can be spoiled; none of them may verify. */
function spoiledConsistencies(c: ConsistencyClaim): [string, ConsistencyClaim][] {
  const { oldSize, newSize, oldRoot, newRoot, proof } = c;
  const probes: [string, ConsistencyClaim][] = [
    ['old size - 1', { ...c, oldSize: oldSize - 1 }],
    ['old size + 1', { ...c, oldSize: oldSize + 1 }],
    ['old size ^ 2', { ...c, oldSize: oldSize ^ 2 }],
    ['new size * 2', { ...c, newSize: newSize * 2 }],
    ['new size / 2', { ...c, newSize: Math.floor(newSize / 2) }],
    ['wrong old root', { ...c, oldRoot: flip(oldRoot) }],
    ['wrong new root', { ...c, newRoot: flip(newRoot) }],
    ['swapped roots', { ...c, oldRoot: newRoot, newRoot: oldRoot }],
    ['empty proof', { ...c, proof: [] }],
    ['proof truncated', { ...c, proof: proof.slice(0, -1) }],
    ['proof extended by the old root', { ...c, proof: [...proof, oldRoot] }],
    ['proof extended by the new root', { ...c, proof: [...proof, newRoot] }],
    ['proof prefixed by the old root', { ...c, proof: [oldRoot, ...proof] }],
    ['proof prefixed by the new root', { ...c, proof: [newRoot, ...proof] }],
    ['proof prefixed by proof[0]', { ...c, proof: [proof[0]!, ...proof] }],
    ['long proof element', { ...c, proof: [Buffer.concat([proof[0]!, Buffer.of(0)]), ...proof.slice(1)] }],
  ];
  if (proof.length > 1) probes.push(['elements swapped', { ...c, proof: [proof[1]!, proof[0]!, ...proof.slice(2)] }]);
  proof.forEach((_, i) => {
    for (const [byte, bit] of [[0, 4], [i * 7 + 5, i % 8], [31, 7]] as const) {
      const bad = [...proof];
      bad[i] = flip(bad[i]!, byte, bit);
      probes.push([`proof[${i}] byte ${byte % 32} bit ${bit} flipped`, { ...c, proof: bad }]);
    }
  });
  return probes;
}

/** The names of the probes that verified, which must be none. */
const accepted = <C>(probes: [string, C][], verify: (c: C) => boolean): string[] =>
  probes.filter(([, c]) => verify(c)).map(([name]) => name);

// ---------------------------------------------------------------------------------------------------

describe('known test vectors', () => {
  // The leaves and roots of the Certificate Transparency test suites (C++ merkle_tree_test, Go
  // transparency-dev/merkle testonly/constants.go and proof/verify_test.go), used as data only.
  const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
  const CT_ROOTS = [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  const ctHashes = CT_LEAVES.map(leafHash);

  it('the empty tree has root SHA-256("") = e3b0c442…', () => {
    expect(hex(emptyRoot())).toBe(CT_ROOTS[0]);
    expect(hex(rootFromLeafHashes([]))).toBe(CT_ROOTS[0]);
    expect(hex(createMerkleTree().root())).toBe(CT_ROOTS[0]);
  });

  it('the CT reference tree has the published root at every size 0..8 (5dc9da79… at 8)', () => {
    for (let n = 0; n <= 8; n++) {
      expect(hex(rootFromLeafHashes(ctHashes.slice(0, n))), `size ${n}`).toBe(CT_ROOTS[n]);
      expect(hex(createMerkleTree(ctHashes).root(n)), `size ${n}`).toBe(CT_ROOTS[n]);
      expect(hex(MTH(CT_LEAVES.slice(0, n))), `reference, size ${n}`).toBe(CT_ROOTS[n]);
    }
  });

  it.each([
    { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
    { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
    { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
    { index: 1, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  ])('CT inclusion vector: leaf $index of $size', ({ index, size, proof }) => {
    expect(hexes(inclusionProof(index, ctHashes.slice(0, size)))).toEqual(proof);
    expect(verifyInclusion({ index, size, leafHash: ctHashes[index]!, proof: proof.map(unhex), root: unhex(CT_ROOTS[size]!) })).toBe(true);
  });

  it.each([
    { oldSize: 1, newSize: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
    { oldSize: 6, newSize: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
    { oldSize: 2, newSize: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
    { oldSize: 6, newSize: 7, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  ])('CT consistency vector: $oldSize to $newSize', ({ oldSize, newSize, proof }) => {
    expect(hexes(consistencyProof(oldSize, ctHashes.slice(0, newSize)))).toEqual(proof);
    const claim = { oldSize, newSize, oldRoot: unhex(CT_ROOTS[oldSize]!), newRoot: unhex(CT_ROOTS[newSize]!), proof: proof.map(unhex) };
    expect(verifyConsistency(claim)).toBe(true);
  });

  it('leaf and node hashes carry the 0x00 and 0x01 prefixes', () => {
    expect(hex(leafHash(Buffer.alloc(0)))).toBe(CT_ROOTS[1]);
    expect(hex(nodeHash(ctHashes[0]!, ctHashes[1]!))).toBe(CT_ROOTS[2]);
  });
});

// ---------------------------------------------------------------------------------------------------

const SMALL = 64;
const smallData = leafData(SMALL);
// Nothing under test runs while the file is collected (mutation testing must see which test runs it,
// and a value computed then would hide a mutant: note.test.ts): the leaf hashes come from the
// reference H, and the tree is made inside each test.
const smallHashes = smallData.map((d) => H(Buffer.of(0), d));
/** One tree of 64 leaves, asked about every earlier size: proofs for the past must match too. */
const smallTree = () => createMerkleTree(smallHashes);
const smallRoots = Array.from({ length: SMALL + 1 }, (_, n) => MTH(smallData.slice(0, n)));
const sizes = Array.from({ length: SMALL }, (_, i) => i + 1);

describe('against the reference, every tree size 1..64', () => {
  it('leaf hashes agree with the reference', () => {
    smallData.forEach((d, i) => expect(hex(leafHash(d))).toBe(hex(smallHashes[i]!)));
  });

  it.each(sizes)('root of %i leaves', (n) => {
    const want = hex(smallRoots[n]!);
    expect(hex(rootFromLeafHashes(smallHashes.slice(0, n)))).toBe(want);
    expect(hex(createMerkleTree(smallHashes.slice(0, n)).root())).toBe(want);
    expect(hex(smallTree().root(n))).toBe(want);
  });

  it.each(sizes)('inclusion proofs of every leaf in a tree of %i', (n) => {
    const D = smallData.slice(0, n);
    const hashes = smallHashes.slice(0, n);
    const root = smallRoots[n]!;
    const otherRoot = smallRoots[n === 1 ? 2 : n - 1]!;
    const tree = smallTree();
    for (let m = 0; m < n; m++) {
      const want = hexes(PATH(m, D));
      const proof = inclusionProof(m, hashes);
      expect(hexes(proof), `PATH(${m}, D[${n}])`).toEqual(want);
      expect(hexes(tree.inclusionProof(m, n)), `PATH(${m}, D[${n}]) from the larger tree`).toEqual(want);

      const claim = { index: m, size: n, leafHash: hashes[m]!, proof, root };
      expect(verifyInclusion(claim), `leaf ${m} of ${n}`).toBe(true);
      expect(accepted(spoiledInclusions(claim, otherRoot), verifyInclusion), `leaf ${m} of ${n}`).toEqual([]);
    }
  });

  it.each(sizes)('consistency proofs from every old size 1..%i', (n) => {
    const D = smallData.slice(0, n);
    const tree = smallTree();
    for (let m = 1; m <= n; m++) {
      const want = hexes(PROOF(m, D));
      const proof = consistencyProof(m, smallHashes.slice(0, n));
      expect(hexes(proof), `PROOF(${m}, D[${n}])`).toEqual(want);
      expect(hexes(tree.consistencyProof(m, n)), `PROOF(${m}, D[${n}]) from the larger tree`).toEqual(want);

      const claim = { oldSize: m, newSize: n, oldRoot: smallRoots[m]!, newRoot: smallRoots[n]!, proof };
      expect(verifyConsistency(claim), `${m} to ${n}`).toBe(true);
      if (m < n) {
        expect(accepted(spoiledConsistencies(claim), verifyConsistency), `${m} to ${n}`).toEqual([]);
      } else {
        // Equal sizes: the proof is empty and only the very same root verifies.
        expect(proof).toEqual([]);
        expect(verifyConsistency({ ...claim, newRoot: smallRoots[n - 1]! })).toBe(false);
        expect(verifyConsistency({ ...claim, proof: [smallRoots[n]!] })).toBe(false);
      }
    }
  });
});

describe('against the reference, random larger trees', () => {
  const SEED = 0x70116a7e;
  const random = prng(SEED);
  // Around the power-of-two edges, then random sizes up to ~3000.
  const large = [1024, 1025, 2047, ...Array.from({ length: 3 }, () => 65 + random(3000 - 65))];

  it.each(large)(`tree of %i leaves (seed ${SEED})`, (n) => {
    const D = leafData(n);
    const hashes = D.map(leafHash);
    const tree = createMerkleTree(hashes);
    const root = MTH(D);
    expect(hex(rootFromLeafHashes(hashes))).toBe(hex(root));
    expect(hex(tree.root())).toBe(hex(root));

    const indices = [0, n - 1, ...Array.from({ length: 6 }, () => random(n))];
    for (const m of indices) {
      const proof = tree.inclusionProof(m);
      expect(hexes(proof), `PATH(${m}, D[${n}])`).toEqual(hexes(PATH(m, D)));
      const claim = { index: m, size: n, leafHash: hashes[m]!, proof, root };
      expect(verifyInclusion(claim)).toBe(true);
      expect(accepted(spoiledInclusions(claim, tree.root(n - 1)), verifyInclusion), `leaf ${m} of ${n}`).toEqual([]);
    }

    const oldSizes = [1, n - 1, ...Array.from({ length: 6 }, () => 1 + random(n - 1))];
    for (const m of oldSizes) {
      const proof = tree.consistencyProof(m);
      expect(hexes(proof), `PROOF(${m}, D[${n}])`).toEqual(hexes(PROOF(m, D)));
      const claim = { oldSize: m, newSize: n, oldRoot: MTH(D.slice(0, m)), newRoot: root, proof };
      expect(verifyConsistency(claim)).toBe(true);
      expect(accepted(spoiledConsistencies(claim), verifyConsistency), `${m} to ${n}`).toEqual([]);
    }
  }, 60_000);
});

describe('verification never throws, and says no to malformed input', () => {
  const root3 = smallRoots[3]!;
  const good: InclusionClaim = { index: 1, size: 3, leafHash: smallHashes[1]!, proof: PATH(1, smallData.slice(0, 3)), root: root3 };

  it.each<[string, Partial<Record<keyof InclusionClaim, unknown>>]>([
    ['negative index', { index: -1 }],
    ['fractional index', { index: 0.5 }],
    ['NaN index', { index: Number.NaN }],
    ['index equal to the size', { index: 3 }],
    ['index beyond 2^53', { index: 2 ** 60, size: 2 ** 61 }],
    ['empty tree', { index: 0, size: 0, proof: [] }],
    ['size as a string', { size: '3' }],
    ['leaf hash of 31 bytes', { leafHash: Buffer.alloc(31) }],
    ['root of 33 bytes', { root: Buffer.alloc(33) }],
    ['root missing', { root: undefined }],
    ['proof not an array', { proof: 'abc' }],
    ['proof with a null element', { proof: [null] }],
    ['proof with a hex string', { proof: [hex(smallHashes[0]!)] }],
    ['a very long proof', { proof: Array.from({ length: 10_000 }, () => ZERO_HASH) }],
  ])('inclusion: %s', (_, change) => {
    expect(verifyInclusion(good)).toBe(true);
    expect(verifyInclusion({ ...good, ...change } as InclusionClaim)).toBe(false);
  });

  it('inclusion: a single-leaf tree verifies with an empty proof, and only for its own leaf', () => {
    expect(verifyInclusion({ index: 0, size: 1, leafHash: smallHashes[0]!, proof: [], root: smallHashes[0]! })).toBe(true);
    expect(verifyInclusion({ index: 0, size: 1, leafHash: smallHashes[1]!, proof: [], root: smallHashes[0]! })).toBe(false);
  });

  it('inclusion: sizes beyond 2^31 are handled without 32-bit truncation', () => {
    // Same shape as the last leaf of a 2-leaf tree, shifted by whole levels: 2^32 + 1 leaves, last index.
    const size = 2 ** 32 + 1;
    const proof = [smallRoots[4]!];
    const root = nodeHash(smallRoots[4]!, smallHashes[0]!);
    expect(verifyInclusion({ index: size - 1, size, leafHash: smallHashes[0]!, proof, root })).toBe(true);
    expect(verifyInclusion({ index: size - 1, size: size + 1, leafHash: smallHashes[0]!, proof, root })).toBe(false);
  });

  const good36: ConsistencyClaim = { oldSize: 3, newSize: 6, oldRoot: root3, newRoot: smallRoots[6]!, proof: PROOF(3, smallData.slice(0, 6)) };

  it.each<[string, Partial<Record<keyof ConsistencyClaim, unknown>>]>([
    ['new size smaller than the old', { oldSize: 6, newSize: 3, oldRoot: smallRoots[6]!, newRoot: root3 }],
    ['negative old size', { oldSize: -3 }],
    ['fractional new size', { newSize: 6.5 }],
    ['new size beyond 2^53', { newSize: 2 ** 54 }],
    ['old root of 31 bytes', { oldRoot: Buffer.alloc(31) }],
    ['new root missing', { newRoot: null }],
    ['proof not an array', { proof: {} }],
    ['proof with a short element', { proof: [Buffer.alloc(16)] }],
    ['a very long proof', { proof: Array.from({ length: 10_000 }, () => ZERO_HASH) }],
  ])('consistency: %s', (_, change) => {
    expect(verifyConsistency(good36)).toBe(true);
    expect(verifyConsistency({ ...good36, ...change } as ConsistencyClaim)).toBe(false);
  });

  it('consistency: the empty tree is consistent with any tree, with an empty proof and its own root', () => {
    const empty = { oldSize: 0, newSize: 5, oldRoot: emptyRoot(), newRoot: smallRoots[5]!, proof: [] };
    expect(verifyConsistency(empty)).toBe(true);
    expect(verifyConsistency({ ...empty, newSize: 0, newRoot: emptyRoot() })).toBe(true);
    expect(verifyConsistency({ ...empty, oldRoot: smallRoots[1]! })).toBe(false);
    expect(verifyConsistency({ ...empty, proof: [emptyRoot()] })).toBe(false);
  });
});

describe('generation', () => {
  it('rejects impossible arguments with a RangeError', () => {
    const hashes = smallHashes.slice(0, 5);
    expect(() => inclusionProof(5, hashes)).toThrow(RangeError);
    expect(() => inclusionProof(-1, hashes)).toThrow(RangeError);
    expect(() => inclusionProof(0, [])).toThrow(RangeError);
    expect(() => consistencyProof(6, hashes)).toThrow(RangeError);
    expect(() => createMerkleTree(hashes).root(6)).toThrow(RangeError);
    expect(() => createMerkleTree(hashes).inclusionProof(3, 3)).toThrow(RangeError);
    expect(() => createMerkleTree([Buffer.from('not a hash')])).toThrow(/32 bytes/);
  });

  it('gives empty consistency proofs from the empty tree and to the same size', () => {
    expect(consistencyProof(0, smallHashes.slice(0, 5))).toEqual([]);
    expect(consistencyProof(5, smallHashes.slice(0, 5))).toEqual([]);
  });

  it('returns copies: changing a returned hash or an appended one does not change the tree', () => {
    const leaf = Buffer.from(smallHashes[0]!);
    const tree = createMerkleTree([leaf, smallHashes[1]!, smallHashes[2]!]);
    const root = hex(tree.root());
    leaf.fill(0);
    tree.root().fill(0);
    tree.inclusionProof(2)[0]!.fill(0);
    expect(hex(tree.root())).toBe(root);
    expect(hex(tree.inclusionProof(2)[0]!)).toBe(hex(nodeHash(smallHashes[0]!, smallHashes[1]!)));
  });

  it('grows: appending leaf by leaf gives the reference root and proofs at every size', () => {
    const tree = createMerkleTree();
    for (let n = 1; n <= 20; n++) {
      expect(tree.append(smallHashes[n - 1]!)).toBe(n - 1);
      expect(tree.size).toBe(n);
      expect(hex(tree.root())).toBe(hex(smallRoots[n]!));
      expect(hexes(tree.consistencyProof(1))).toEqual(hexes(PROOF(1, smallData.slice(0, n))));
    }
  });

  it('handles 100 000 leaves: root in one pass, proofs that verify', () => {
    const hashes = Array.from({ length: 100_000 }, (_, i) => leafHash(Buffer.from(`event ${i}`)));
    const root = rootFromLeafHashes(hashes);
    const tree = createMerkleTree(hashes);
    expect(hex(tree.root())).toBe(hex(root));
    const index = 77_777;
    expect(verifyInclusion({ index, size: hashes.length, leafHash: hashes[index]!, proof: tree.inclusionProof(index), root })).toBe(true);
    const oldSize = 54_321;
    expect(
      verifyConsistency({ oldSize, newSize: hashes.length, oldRoot: rootFromLeafHashes(hashes.slice(0, oldSize)), newRoot: root, proof: tree.consistencyProof(oldSize) }),
    ).toBe(true);
  }, 60_000);
});

describe('a tree kept as stored complete subtrees (audit_nodes)', () => {
  // What the store keeps: every subtree each append completes, by (level, index).
  const stored = (leaves: readonly Buffer[]) => {
    const nodes = new Map<string, Buffer>();
    const at = (level: number, index: number) => nodes.get(`${level}/${index}`)!;
    leaves.forEach((leaf, i) => {
      for (const n of completedBy(i)) nodes.set(`${n.level}/${n.index}`, n.level === 0 ? leaf : nodeHash(at(n.level - 1, 2 * n.index), at(n.level - 1, 2 * n.index + 1)));
    });
    return { nodes, at };
  };

  it.each([1, 2, 3, 5, 8, 13, 64, 100])('gives the same inclusion proofs as the whole tree, for every leaf of %i', (n) => {
    const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`event ${i}`)));
    const { nodes, at } = stored(leaves);
    expect(nodes.size).toBe(2 * n - popcount(n));
    const tree = createMerkleTree(leaves);
    for (let size = 1; size <= n; size++) {
      for (let i = 0; i < size; i++) {
        const proof = inclusionProofPlan(i, size).map((pieces) => foldPieces(pieces.map((p) => at(p.level, p.index))));
        expect(proof).toEqual(tree.inclusionProof(i, size));
        expect(verifyInclusion({ index: i, size, leafHash: leaves[i]!, proof, root: tree.root(size) })).toBe(true);
      }
    }
  });

  it('asks for O(log² n) subtrees at a million leaves', () => {
    const plan = inclusionProofPlan(123_456, 1_000_003);
    expect(plan.length).toBe(20);
    expect(plan.flat().length).toBeLessThanOrEqual(20 * 20);
    expect(() => inclusionProofPlan(5, 5)).toThrow(RangeError);
  });
});

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}
