import type { KeyObject } from 'node:crypto';
import { parseExportLine } from '../../provenance/chain-export-reader.js';
import { ChainVerification } from '../../provenance/chain-verifier.js';
import { checkConsistency } from '../../provenance/checkpoint-consistency.js';
import {
  CheckpointNoteError,
  verifyCheckpoint,
  type Checkpoint,
} from '../../provenance/checkpoint-note.js';
import { leafHash, MerkleRootAccumulator } from '../../provenance/merkle.js';
import { expectThat, short, StepFailure, type Narrator } from './narrator.js';

/** Beyond this length the demo leaves the full offline walk to `npm run chain:verify`. */
const OFFLINE_WALK_LIMIT = 100_000;

/**
 * Checks a signed checkpoint the way an auditor holding only the public key does: the note's
 * signature, then the exported chain recomputed here to have the signed head hash and Merkle
 * root at the checkpoint's length, then that an altered note is refused.
 */
export async function checkCheckpointOffline(
  narrator: Narrator,
  note: string,
  publicKey: KeyObject,
  exportText: () => Promise<string>,
): Promise<void> {
  let checkpoint: Checkpoint;
  try {
    checkpoint = verifyCheckpoint(note, publicKey);
  } catch (error) {
    throw new StepFailure(`the checkpoint note does not verify: ${(error as Error).message}`);
  }
  narrator.ok(
    `its signature verifies with the local public key: ${checkpoint.origin}, length ${checkpoint.length}, root ${short(checkpoint.rootHash ?? 'none')}`,
  );
  if (checkpoint.length > OFFLINE_WALK_LIMIT) {
    narrator.note(
      `the chain is longer than ${OFFLINE_WALK_LIMIT} entries: check it against the note with npm run chain:verify -- --checkpoint FILE`,
    );
  } else {
    await recomputeChain(narrator, checkpoint, await exportText());
  }
  const altered = note.replace(`\n${checkpoint.length}\n`, `\n${checkpoint.length + 1}\n`);
  try {
    verifyCheckpoint(altered, publicKey);
  } catch (error) {
    if (!(error instanceof CheckpointNoteError)) throw error;
    return narrator.ok(
      `the same note claiming length ${checkpoint.length + 1} is refused: ${error.message}`,
    );
  }
  throw new StepFailure('an altered checkpoint note verified');
}

/** Walks the exported entries up to the checkpoint's length and compares head and Merkle root. */
async function recomputeChain(
  narrator: Narrator,
  checkpoint: Checkpoint,
  exportText: string,
): Promise<void> {
  const walk = new ChainVerification(undefined, [checkpoint.length]);
  const roots = new MerkleRootAccumulator([checkpoint.length]);
  const lines = exportText.split('\n').filter((line) => line.trim() !== '');
  lines.slice(0, checkpoint.length).forEach((line, index) => {
    const entry = parseExportLine(line, index + 1);
    walk.add(entry);
    roots.append(leafHash(Buffer.from(entry.hash, 'hex')));
  });
  const verdict = walk.verdict();
  expectThat(verdict.valid, `the exported chain does not verify here: ${JSON.stringify(verdict)}`);
  const consistency = checkConsistency(checkpoint, verdict.length, walk, roots);
  expectThat(
    consistency.consistent,
    `the exported chain against the checkpoint: ${consistency.text}`,
  );
  narrator.ok(`the exported chain, recomputed here, is ${consistency.text}`);
}
