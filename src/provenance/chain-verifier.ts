import { chainHash, GENESIS_HASH } from './chain-hash.js';
import type { StoredChainEntry } from './chain-entry.js';

export type ChainBreak = 'gap' | 'broken_link' | 'hash_mismatch';

export type ChainVerdict =
  | { valid: true; length: number; head_hash: string }
  | {
      valid: false;
      length: number;
      first_invalid_sequence: number;
      reason: ChainBreak;
      detail: string;
    };

type BrokenVerdict = Extract<ChainVerdict, { valid: false }>;

/** Where a walk starts: the genesis, or just after an already trusted entry (a signed head). */
export interface ChainWalkStart {
  /** The sequence the first entry read must have. */
  sequence: number;
  /** The hash that entry's `previous_hash` must equal. */
  previousHash: string;
}

const FROM_GENESIS: ChainWalkStart = { sequence: 1, previousHash: GENESIS_HASH };

/** What a walk found, as the chain CLI reports it. */
export interface ChainWalkResult {
  verdict(): ChainVerdict;
  /** The hash read at `sequence`, if it was asked for and has been read. */
  hashAt(sequence: number): string | undefined;
}

/**
 * A contiguous part of the chain checked on its own by `ChainVerification.unanchored()`: its own
 * entries are fully checked except how the first one joins what comes before, which
 * `combineSlices` checks from the neighbouring slice.
 */
export interface ChainSlice {
  count: number;
  first?: { sequence: number; previousHash: string };
  last?: { sequence: number; hash: string };
  firstBreak?: BrokenVerdict;
  recordedHashes: [sequence: number, hash: string][];
}

/**
 * Checks entries fed in sequence order and remembers the first break (SPEC §5): a missing or
 * out-of-place sequence (gap), a `previous_hash` that is not the hash of the entry before
 * (broken link, e.g. rows swapped), or a hash that does not match the entry's content. Holds one
 * hash at a time, so memory stays bounded however long the chain is; feeding is synchronous so a
 * caller reading pages pays no promise per entry.
 */
export class ChainVerification implements ChainWalkResult {
  private expectedSequence: number;
  private previousHash: string;
  private entriesRead = 0;
  private firstEntry: ChainSlice['first'];
  private firstBreak: BrokenVerdict | undefined;
  private readonly recorded: Map<number, string | undefined>;

  constructor(
    private readonly start: ChainWalkStart | 'unanchored' = FROM_GENESIS,
    /** Sequences whose hash to remember as read, e.g. the lengths of held checkpoints. */
    recordHashesAt: Iterable<number> = [],
  ) {
    this.expectedSequence = start === 'unanchored' ? 0 : start.sequence;
    this.previousHash = start === 'unanchored' ? '' : start.previousHash;
    this.recorded = new Map([...recordHashesAt].map((sequence) => [sequence, undefined]));
  }

  /** Checks a slice that starts wherever its first entry says; see `ChainSlice`. */
  static unanchored(recordHashesAt: Iterable<number> = []): ChainVerification {
    return new ChainVerification('unanchored', recordHashesAt);
  }

  /** The next entry in sequence order. After the first break it is only counted. */
  add(entry: StoredChainEntry): void {
    if (this.entriesRead === 0) {
      this.firstEntry = { sequence: entry.sequence, previousHash: entry.previousHash };
      if (this.start === 'unanchored') {
        this.expectedSequence = entry.sequence;
        this.previousHash = entry.previousHash;
      }
    }
    this.entriesRead += 1;
    if (this.recorded.has(entry.sequence)) this.recorded.set(entry.sequence, entry.hash);
    if (this.firstBreak) return;
    const problem = findBreak(entry, this.expectedSequence, this.previousHash);
    if (problem) this.firstBreak = { valid: false, length: 0, ...problem };
    this.expectedSequence = entry.sequence + 1;
    this.previousHash = entry.hash;
  }

  /**
   * The sequence the next entry must have, with `lastHash` as its `previous_hash`, to pass the
   * checks of how it follows the last one fed; for a reader that checks raw rows itself and hands
   * `add` only the rows it cannot vouch for. Undefined before an unanchored walk's first entry.
   */
  get nextSequence(): number | undefined {
    if (this.entriesRead === 0 && this.start === 'unanchored') return undefined;
    return this.expectedSequence;
  }

  get lastHash(): string {
    return this.previousHash;
  }

  /**
   * Counts an entry the caller has checked itself: it has `nextSequence` and `lastHash`, and
   * `hash` is both its stored hash and the one recomputed from its content.
   */
  addIntact(sequence: number, hash: string): void {
    this.entriesRead += 1;
    if (this.recorded.has(sequence)) this.recorded.set(sequence, hash);
    this.expectedSequence = sequence + 1;
    this.previousHash = hash;
  }

  /** Entries fed so far. */
  get count(): number {
    return this.entriesRead;
  }

  hashAt(sequence: number): string | undefined {
    return this.recorded.get(sequence);
  }

  /** `length` is the last sequence covered: the start plus the entries read. */
  verdict(): ChainVerdict {
    const start = this.start === 'unanchored' ? 1 : this.start.sequence;
    const length = start - 1 + this.entriesRead;
    if (this.firstBreak) return { ...this.firstBreak, length };
    return { valid: true, length, head_hash: this.previousHash };
  }

  /** What `combineSlices` needs of this walk. */
  slice(): ChainSlice {
    const recordedHashes = [...this.recorded].filter(
      (pair): pair is [number, string] => pair[1] !== undefined,
    );
    return {
      count: this.entriesRead,
      first: this.firstEntry,
      last:
        this.entriesRead > 0
          ? { sequence: this.expectedSequence - 1, hash: this.previousHash }
          : undefined,
      firstBreak: this.firstBreak,
      recordedHashes,
    };
  }
}

/**
 * The walk of a whole chain from its slices, in sequence order: each slice's first entry must
 * follow the previous slice's last one (else a gap) and link to its hash (else a broken link).
 * The first break in chain order wins, as in one sequential walk.
 */
export function combineSlices(slices: ChainSlice[]): ChainWalkResult {
  let expectedSequence = FROM_GENESIS.sequence;
  let previousHash = FROM_GENESIS.previousHash;
  let length = 0;
  let firstBreak: BrokenVerdict | undefined;
  const recorded = new Map<number, string>();
  for (const slice of slices) {
    length += slice.count;
    for (const [sequence, hash] of slice.recordedHashes) recorded.set(sequence, hash);
    if (firstBreak || !slice.first || !slice.last) continue;
    const joint = findBreakAtJoint(slice.first, expectedSequence, previousHash);
    firstBreak = joint ? { valid: false, length: 0, ...joint } : slice.firstBreak;
    expectedSequence = slice.last.sequence + 1;
    previousHash = slice.last.hash;
  }
  const verdict: ChainVerdict = firstBreak
    ? { ...firstBreak, length }
    : { valid: true, length, head_hash: previousHash };
  return { verdict: () => verdict, hashAt: (sequence) => recorded.get(sequence) };
}

/** Walks `entries` from the genesis (or `start`) and reports the first break. */
export async function verifyChain(
  entries: AsyncIterable<StoredChainEntry> | Iterable<StoredChainEntry>,
  start?: ChainWalkStart,
): Promise<ChainVerdict> {
  const verification = new ChainVerification(start);
  for await (const entry of entries) verification.add(entry);
  return verification.verdict();
}

type Break = Omit<BrokenVerdict, 'valid' | 'length'>;

function findBreak(
  entry: StoredChainEntry,
  expectedSequence: number,
  previousHash: string,
): Break | undefined {
  const atJoint = findBreakAtJoint(entry, expectedSequence, previousHash);
  if (atJoint) return atJoint;
  const recomputed = chainHash(entry.previousHash, entry, entry.timestamp);
  if (recomputed !== entry.hash) {
    return {
      first_invalid_sequence: entry.sequence,
      reason: 'hash_mismatch',
      detail: `stored hash ${entry.hash} does not match the entry content (recomputed ${recomputed})`,
    };
  }
  return undefined;
}

/** The checks of how an entry follows the one before: its sequence, then its link. */
function findBreakAtJoint(
  entry: { sequence: number; previousHash: string },
  expectedSequence: number,
  previousHash: string,
): Break | undefined {
  if (entry.sequence !== expectedSequence) {
    return {
      first_invalid_sequence: expectedSequence,
      reason: 'gap',
      detail: `expected sequence ${expectedSequence}, found ${entry.sequence}`,
    };
  }
  if (entry.previousHash !== previousHash) {
    return {
      first_invalid_sequence: entry.sequence,
      reason: 'broken_link',
      detail: `previous_hash ${entry.previousHash} is not the hash of the entry before (${previousHash})`,
    };
  }
  return undefined;
}
