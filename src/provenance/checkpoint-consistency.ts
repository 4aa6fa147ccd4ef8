import type { ChainWalkResult } from './chain-verifier.js';
import type { Checkpoint } from './checkpoint-note.js';
import type { MerkleRootAccumulator } from './merkle.js';

/**
 * Whether a walked chain still has, at a verified checkpoint's length, the head hash and the
 * Merkle root the checkpoint signed; `text` says what was found. Used by `chain:verify
 * --checkpoint` and the demo's offline check.
 */
export function checkConsistency(
  checkpoint: Checkpoint,
  chainLength: number,
  walk: ChainWalkResult,
  roots: MerkleRootAccumulator,
): { consistent: boolean; text: string } {
  const found = walk.hashAt(checkpoint.length);
  const root = roots.rootAt(checkpoint.length)?.toString('hex');
  if (found === checkpoint.headHash && checkpoint.rootHash === undefined) {
    return {
      consistent: true,
      text: `consistent, the chain has the signed head at this length (signed before the Merkle tree: no root to compare)`,
    };
  }
  if (found === checkpoint.headHash && root === checkpoint.rootHash) {
    return {
      consistent: true,
      text: `consistent, the chain has the signed head at this length and its Merkle root ${root}`,
    };
  }
  if (found === checkpoint.headHash) {
    return {
      consistent: false,
      text: `INCONSISTENT: the first ${checkpoint.length} entries have Merkle root ${root ?? 'none'}, the checkpoint signed ${checkpoint.rootHash}`,
    };
  }
  if (found === undefined) {
    return {
      consistent: false,
      text: `INCONSISTENT: the chain has no entry ${checkpoint.length} (${chainLength} entries); entries the checkpoint covers were removed`,
    };
  }
  return {
    consistent: false,
    text:
      `INCONSISTENT: entry ${checkpoint.length} has hash ${found}, the checkpoint signed ` +
      `${checkpoint.headHash}; history up to sequence ${checkpoint.length} was rewritten`,
  };
}
