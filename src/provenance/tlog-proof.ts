import { verifyCheckpoint, type Checkpoint, type NoteKeys } from './checkpoint-note.js';
import { HASH_BYTES, leafHash, MerkleProofError, verifyInclusion } from './merkle.js';

/**
 * A receipt: a C2SP `tlog-proof` (https://c2sp.org/tlog-proof), the checkpoint-bound inclusion
 * proof of one entry that a client keeps and verifies offline with the checkpoint key alone:
 *
 *     c2sp.org/tlog-proof@v1\n
 *     index <leaf index, decimal>\n
 *     <inclusion proof hash, standard base64>\n      (one a line, leaf side first; none for size 1)
 *     \n
 *     <the signed checkpoint note>
 */
const HEADER = 'c2sp.org/tlog-proof@v1';
const INDEX_LINE = /^index (0|[1-9][0-9]*)$/;

export interface Receipt {
  index: number;
  proof: Buffer[];
  /** The signed note, exactly as served. */
  checkpointNote: string;
}

export function formatReceipt(receipt: Receipt): string {
  const hashes = receipt.proof.map((hash) => `${hash.toString('base64')}\n`).join('');
  return `${HEADER}\nindex ${receipt.index}\n${hashes}\n${receipt.checkpointNote}`;
}

export function parseReceipt(text: string): Receipt {
  const split = text.indexOf('\n\n');
  if (split < 0)
    throw new MerkleProofError('not a tlog-proof: no blank line before the checkpoint');
  const [header, indexLine, ...hashes] = text.slice(0, split).split('\n');
  if (header !== HEADER) throw new MerkleProofError(`not a tlog-proof: first line "${header}"`);
  const index = INDEX_LINE.exec(indexLine ?? '');
  if (!index || !Number.isSafeInteger(Number(index[1]))) {
    throw new MerkleProofError(`invalid index line "${indexLine}"`);
  }
  const proof = hashes.map((line) => {
    const hash = Buffer.from(line, 'base64');
    if (hash.length !== HASH_BYTES || hash.toString('base64') !== line) {
      throw new MerkleProofError(`invalid proof line "${line}" (base64 of 32 bytes)`);
    }
    return hash;
  });
  return { index: Number(index[1]), proof, checkpointNote: text.slice(split + 2) };
}

/** What a verified receipt establishes: entry `sequence` with hash `entryHash` is in `checkpoint`. */
export interface VerifiedReceipt {
  sequence: number;
  entryHash: string;
  checkpoint: Checkpoint;
}

/**
 * Verifies every part of a receipt: the checkpoint's signature with the pinned key (or one of the pinned keys), then the
 * inclusion of `entryHash` (the hex hash of the entry the receipt is for) at the stated index in
 * the tree the checkpoint signs (RFC 9162 §2.1.3.2). Throws MerkleProofError or
 * CheckpointNoteError.
 */
export function verifyReceipt(text: string, entryHash: string, keys: NoteKeys): VerifiedReceipt {
  const receipt = parseReceipt(text);
  const checkpoint = verifyCheckpoint(receipt.checkpointNote, keys);
  if (!/^[0-9a-f]{64}$/.test(entryHash)) throw new MerkleProofError('entry hash must be hex');
  if (!checkpoint.rootHash) throw new MerkleProofError('the checkpoint predates the Merkle tree');
  const root = Buffer.from(checkpoint.rootHash, 'hex');
  const leaf = leafHash(Buffer.from(entryHash, 'hex'));
  verifyInclusion(receipt.index, checkpoint.length, leaf, receipt.proof, root);
  return { sequence: receipt.index + 1, entryHash, checkpoint };
}
