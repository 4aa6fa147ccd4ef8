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

/**
 * Checks entries fed in sequence order and remembers the first break (SPEC §5): a missing or
 * out-of-place sequence (gap), a `previous_hash` that is not the hash of the entry before
 * (broken link, e.g. rows swapped), or a hash that does not match the entry's content. Holds one
 * hash at a time, so memory stays bounded however long the chain is; feeding is synchronous so a
 * caller reading pages pays no promise per entry.
 */
export class ChainVerification {
  private expectedSequence: number;
  private previousHash: string;
  private entriesRead = 0;
  private firstBreak: BrokenVerdict | undefined;
  private readonly recorded: Map<number, string | undefined>;

  constructor(
    private readonly start: ChainWalkStart = FROM_GENESIS,
    /** Sequences whose hash to remember as read, e.g. the lengths of held checkpoints. */
    recordHashesAt: Iterable<number> = [],
  ) {
    this.expectedSequence = start.sequence;
    this.previousHash = start.previousHash;
    this.recorded = new Map([...recordHashesAt].map((sequence) => [sequence, undefined]));
  }

  /** The next entry in sequence order. After the first break it is only counted. */
  add(entry: StoredChainEntry): void {
    this.entriesRead += 1;
    if (this.recorded.has(entry.sequence)) this.recorded.set(entry.sequence, entry.hash);
    if (this.firstBreak) return;
    const problem = findBreak(entry, this.expectedSequence, this.previousHash);
    if (problem) this.firstBreak = { valid: false, length: 0, ...problem };
    this.expectedSequence = entry.sequence + 1;
    this.previousHash = entry.hash;
  }

  /** Entries fed so far. */
  get count(): number {
    return this.entriesRead;
  }

  /** The hash read at `sequence`, if it was asked for in `recordHashesAt` and has been read. */
  hashAt(sequence: number): string | undefined {
    return this.recorded.get(sequence);
  }

  /** `length` is the last sequence covered: the start plus the entries read. */
  verdict(): ChainVerdict {
    const length = this.start.sequence - 1 + this.entriesRead;
    if (this.firstBreak) return { ...this.firstBreak, length };
    return { valid: true, length, head_hash: this.previousHash };
  }
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

function findBreak(
  entry: StoredChainEntry,
  expectedSequence: number,
  previousHash: string,
): { first_invalid_sequence: number; reason: ChainBreak; detail: string } | undefined {
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
