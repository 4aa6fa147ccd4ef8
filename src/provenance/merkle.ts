import { Rejection } from '../common/rejection.js';
import { createHash } from 'node:crypto';

/**
 * The RFC 9162 (§2.1) Merkle tree over the chain: leaf `k` is `SHA-256(0x00 ‖ d)` of the k-th
 * leaf input (here the entry's 32-byte hash), an interior node is `SHA-256(0x01 ‖ left ‖ right)`,
 * and `MTH(D[n])` splits at the largest power of two below `n`.
 *
 * Storage keeps only *full* subtrees, identified by `(level, index)`: the node covers leaves
 * `[index·2^level, (index+1)·2^level)`. Every range an RFC 9162 proof needs starts at a multiple of
 * a power of two at least its length, so it decomposes into at most ⌈log₂ n⌉ full subtrees (the
 * binary digits of its length, largest first), and a proof costs O(log n) node reads.
 *
 * Sizes and indexes are JavaScript numbers (safe up to 2^53); bit tests use arithmetic, never the
 * 32-bit `&`/`>>` operators.
 */

export const HASH_BYTES = 32;

/** The root of the empty tree: SHA-256 of nothing (RFC 9162 §2.1.1). */
export const EMPTY_ROOT = createHash('sha256').digest();

/** A full subtree: leaves `[index·2^level, (index+1)·2^level)`. */
export interface NodeId {
  level: number;
  index: number;
}

/** Reads stored full-subtree hashes; answers in the order asked, and fails for a missing node. */
export interface MerkleNodeReader {
  readNodes(ids: readonly NodeId[]): Promise<Buffer[]>;
}

/**
 * A proof that does not verify, or a request no proof exists for; over HTTP it answers 400
 * `invalid_parameter` (a question about the log, not a security rejection).
 */
export class MerkleProofError extends Rejection {
  constructor(message: string) {
    super('invalid_parameter', message);
    this.name = 'MerkleProofError';
  }
}

export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x00]))
    .update(data)
    .digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256')
    .update(Buffer.from([0x01]))
    .update(left)
    .update(right)
    .digest();
}

const isOdd = (value: number): boolean => value % 2 === 1;
const half = (value: number): number => Math.floor(value / 2);

/** The largest power of two strictly less than `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function checkSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleProofError(`${name} must be a non-negative integer`);
  }
}

/** A leaf range `[start, end)` whose hash is MTH of those leaves. */
export interface LeafRange {
  start: number;
  end: number;
}

/** The full subtrees of a proof range, left to right (its length's binary digits, largest first). */
export function fullSubtrees({ start, end }: LeafRange): NodeId[] {
  const ids: NodeId[] = [];
  let offset = start;
  let remaining = end - start;
  while (remaining > 0) {
    let width = 1;
    let level = 0;
    while (width * 2 <= remaining) {
      width *= 2;
      level += 1;
    }
    if (offset % width !== 0)
      throw new MerkleProofError(`range [${start}, ${end}) is not a subtree`);
    ids.push({ level, index: offset / width });
    offset += width;
    remaining -= width;
  }
  return ids;
}

/** The ranges of RFC 9162 §2.1.3.1 `PATH(m, D[n])`, in proof order (leaf side first). */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  checkSize('size', size);
  checkSize('index', index);
  if (index >= size) throw new MerkleProofError(`leaf ${index} is not in a tree of ${size}`);
  const ranges: LeafRange[] = [];
  let offset = 0;
  let m = index;
  let n = size;
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      ranges.push({ start: offset + k, end: offset + n });
      n = k;
    } else {
      ranges.push({ start: offset, end: offset + k });
      offset += k;
      m -= k;
      n -= k;
    }
  }
  return ranges.reverse();
}

/** The ranges of RFC 9162 §2.1.4.1 `PROOF(m, D[n])`, in proof order; 0 < m ≤ n. */
export function consistencyRanges(from: number, to: number): LeafRange[] {
  checkSize('from', from);
  checkSize('to', to);
  if (from === 0 || from > to) {
    throw new MerkleProofError(`no consistency proof from size ${from} to size ${to}`);
  }
  const ranges: LeafRange[] = [];
  let offset = 0;
  let m = from;
  let n = to;
  let whole = true;
  while (m !== n) {
    const k = splitPoint(n);
    if (m <= k) {
      ranges.push({ start: offset + k, end: offset + n });
      n = k;
    } else {
      ranges.push({ start: offset, end: offset + k });
      offset += k;
      m -= k;
      n -= k;
      whole = false;
    }
  }
  // SUBPROOF(m, D[m], b): the subtree itself is named unless it is the old tree as a whole.
  if (!whole) ranges.push({ start: offset, end: offset + n });
  return ranges.reverse();
}

/** MTH of each range, reading all their full subtrees in one call. */
export async function rangeHashes(
  ranges: readonly LeafRange[],
  reader: MerkleNodeReader,
): Promise<Buffer[]> {
  const parts = ranges.map(fullSubtrees);
  const nodes = await reader.readNodes(parts.flat());
  let next = 0;
  return parts.map((ids) => {
    const hashes = nodes.slice(next, next + ids.length);
    next += ids.length;
    // The right-most subtree is the smallest; MTH folds from the right (RFC 9162 §2.1.1).
    return hashes.reduceRight((right, left) => nodeHash(left, right));
  });
}

export async function treeRoot(size: number, reader: MerkleNodeReader): Promise<Buffer> {
  checkSize('size', size);
  if (size === 0) return EMPTY_ROOT;
  const [root] = await rangeHashes([{ start: 0, end: size }], reader);
  return root;
}

export function inclusionProof(
  index: number,
  size: number,
  reader: MerkleNodeReader,
): Promise<Buffer[]> {
  return rangeHashes(inclusionRanges(index, size), reader);
}

export function consistencyProof(
  from: number,
  to: number,
  reader: MerkleNodeReader,
): Promise<Buffer[]> {
  return rangeHashes(consistencyRanges(from, to), reader);
}

function checkHash(name: string, hash: Uint8Array): void {
  if (hash.length !== HASH_BYTES) throw new MerkleProofError(`${name} is not ${HASH_BYTES} bytes`);
}

/**
 * RFC 9162 §2.1.3.2, every step: the index must lie in the tree, every path element must be a
 * hash, the path must be exactly as long as the tree requires (no element left over, none
 * missing), and the recomputed root must equal `root`.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkSize('size', size);
  checkSize('index', index);
  if (index >= size) throw new MerkleProofError(`leaf ${index} is not in a tree of ${size}`);
  checkHash('the leaf hash', leaf);
  checkHash('the root', root);
  proof.forEach((hash, i) => checkHash(`proof element ${i}`, hash));
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) throw new MerkleProofError('the inclusion proof is longer than the tree allows');
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new MerkleProofError('the inclusion proof is shorter than the tree requires');
  if (!r.equals(root)) throw new MerkleProofError('the inclusion proof does not lead to the root');
}

/**
 * RFC 9162 §2.1.4.2, every step, plus the cases it leaves to the caller: equal sizes need an empty
 * proof and equal roots; an empty old tree, or an old tree larger than the new, has no proof.
 * Both recomputed roots must match and the path must be used up exactly.
 */
export function verifyConsistency(
  from: number,
  to: number,
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  checkSize('from', from);
  checkSize('to', to);
  if (from === 0 || from > to) {
    throw new MerkleProofError(`no consistency proof from size ${from} to size ${to}`);
  }
  checkHash('the old root', fromRoot);
  checkHash('the new root', toRoot);
  proof.forEach((hash, i) => checkHash(`proof element ${i}`, hash));
  if (from === to) {
    if (proof.length !== 0) throw new MerkleProofError('equal sizes take an empty proof');
    if (!Buffer.from(fromRoot).equals(toRoot)) throw new MerkleProofError('the roots differ');
    return;
  }
  if (proof.length === 0) throw new MerkleProofError('the consistency proof is empty');
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : [...proof];
  let fn = from - 1;
  let sn = to - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]);
  let sr: Buffer = Buffer.from(path[0]);
  for (const c of path.slice(1)) {
    if (sn === 0)
      throw new MerkleProofError('the consistency proof is longer than the trees allow');
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0)
    throw new MerkleProofError('the consistency proof is shorter than the trees require');
  if (!fr.equals(fromRoot)) throw new MerkleProofError('the proof does not lead to the old root');
  if (!sr.equals(toRoot)) throw new MerkleProofError('the proof does not lead to the new root');
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/**
 * The full subtrees of an in-memory list of leaf hashes, for tests, the back-fill and offline
 * tools; `levels[l][i]` is node (l, i).
 */
export class MemoryMerkleTree implements MerkleNodeReader {
  private readonly levels: Buffer[][] = [[]];

  append(leaf: Buffer): void {
    let level = 0;
    let hash = leaf;
    for (;;) {
      const row = (this.levels[level] ??= []);
      row.push(hash);
      // An even row just completed its last pair: the parent node is now full.
      if (isOdd(row.length)) return;
      hash = nodeHash(row[row.length - 2], hash);
      level += 1;
    }
  }

  get size(): number {
    return this.levels[0].length;
  }

  readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    return Promise.resolve(
      ids.map(({ level, index }) => {
        const hash = this.levels[level]?.[index];
        if (!hash) throw new MerkleProofError(`node (${level}, ${index}) is not stored`);
        return hash;
      }),
    );
  }
}

/**
 * The RFC 9162 root of a stream of leaves in O(log n) memory: only the right edge of full
 * subtrees is kept (largest first), as a back-fill or an offline walk needs. Records the roots at
 * the sizes asked for.
 */
export class MerkleRootAccumulator {
  private readonly edge: { level: number; hash: Buffer }[] = [];
  private readonly recorded = new Map<number, Buffer>();
  private count = 0;

  constructor(private readonly recordAt: readonly number[] = []) {}

  append(leaf: Buffer): void {
    let hash = leaf;
    let level = 0;
    // Equal neighbours merge, as a binary counter carries.
    while (this.edge.length > 0 && this.edge[this.edge.length - 1].level === level) {
      hash = nodeHash(this.edge.pop()!.hash, hash);
      level += 1;
    }
    this.edge.push({ level, hash });
    this.count += 1;
    if (this.recordAt.includes(this.count)) this.recorded.set(this.count, this.root());
  }

  get size(): number {
    return this.count;
  }

  root(): Buffer {
    if (this.edge.length === 0) return EMPTY_ROOT;
    return this.edge.map(({ hash }) => hash).reduceRight((right, left) => nodeHash(left, right));
  }

  /** The root once the stream had `size` leaves, if `size` was asked for and reached. */
  rootAt(size: number): Buffer | undefined {
    return this.recorded.get(size);
  }
}
