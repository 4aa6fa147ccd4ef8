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

/**
 * Walks entries in sequence order and reports the first break (SPEC §5). Holds one entry at a
 * time, so memory stays bounded however long the chain is. `length` counts the entries read.
 */
export async function verifyChain(
  entries: AsyncIterable<StoredChainEntry> | Iterable<StoredChainEntry>,
): Promise<ChainVerdict> {
  let expectedSequence = 1;
  let previousHash = GENESIS_HASH;
  let length = 0;
  let firstBreak: Extract<ChainVerdict, { valid: false }> | undefined;

  for await (const entry of entries) {
    length += 1;
    if (firstBreak) continue;
    const problem = findBreak(entry, expectedSequence, previousHash);
    if (problem) {
      firstBreak = {
        valid: false,
        length: 0,
        first_invalid_sequence: problem.sequence,
        reason: problem.reason,
        detail: problem.detail,
      };
    }
    expectedSequence = entry.sequence + 1;
    previousHash = entry.hash;
  }
  if (firstBreak) return { ...firstBreak, length };
  return { valid: true, length, head_hash: previousHash };
}

function findBreak(
  entry: StoredChainEntry,
  expectedSequence: number,
  previousHash: string,
): { sequence: number; reason: ChainBreak; detail: string } | undefined {
  if (entry.sequence !== expectedSequence) {
    return {
      sequence: expectedSequence,
      reason: 'gap',
      detail: `expected sequence ${expectedSequence}, found ${entry.sequence}`,
    };
  }
  if (entry.previousHash !== previousHash) {
    return {
      sequence: entry.sequence,
      reason: 'broken_link',
      detail: 'previous_hash does not equal the hash of the entry before',
    };
  }
  const recomputed = chainHash(entry.previousHash, entry, entry.timestamp);
  if (recomputed !== entry.hash) {
    return {
      sequence: entry.sequence,
      reason: 'hash_mismatch',
      detail: 'hash does not match the entry content',
    };
  }
  return undefined;
}
