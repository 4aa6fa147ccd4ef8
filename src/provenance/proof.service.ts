import { NotFoundError } from '../common/rejection.js';
import { Injectable } from '@nestjs/common';
import { ChainRepository } from './chain.repository.js';
import { CheckpointService, type CheckpointView } from './checkpoint.service.js';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MerkleProofError,
  type NodeId,
} from './merkle.js';
import { MerkleRepository } from './merkle.repository.js';
import { formatReceipt } from './tlog-proof.js';

/** No proof can be served for this: a size never signed or not reached yet, an entry not yet covered. */
export class ProofUnavailableError extends NotFoundError {
  constructor(message: string) {
    super(message);
    this.name = 'ProofUnavailableError';
  }
}

/** SPEC §5a inclusion proof answer. */
export interface InclusionProofView {
  sequence: number;
  size: number;
  leaf_index: number;
  leaf_hash: string;
  proof: string[];
  checkpoint: CheckpointView;
}

export interface ConsistencyProofView {
  from: number;
  to: number;
  proof: string[];
}

/** C2SP tlog-tiles: tile height 8, so a full tile holds 256 hashes. */
export const TILE_WIDTH = 256;
const TILE_HEIGHT = 8;

/**
 * Proofs, receipts and tiles from the stored tree (SPEC §5a). Every answer reads O(log n) rows by
 * primary key (a tile: at most 256), and every proof is tied to a size the service has signed or,
 * for consistency, to a size the tree has reached.
 */
@Injectable()
export class ProofService {
  constructor(
    private readonly chain: ChainRepository,
    private readonly tree: MerkleRepository,
    private readonly checkpoints: CheckpointService,
  ) {}

  /** `size` defaults to the latest checkpoint's; otherwise a checkpoint of that size must exist. */
  async inclusion(sequence: number, size?: number): Promise<InclusionProofView> {
    const checkpoint = await this.signedAt(size);
    if (sequence > checkpoint.length) {
      throw new MerkleProofError(
        `sequence ${sequence} is not in the tree of size ${checkpoint.length}`,
      );
    }
    const index = sequence - 1;
    const [leaf] = await this.tree.readNodes([{ level: 0, index }]);
    const proof = await inclusionProof(index, checkpoint.length, this.tree);
    return {
      sequence,
      size: checkpoint.length,
      leaf_index: index,
      leaf_hash: leaf.toString('hex'),
      proof: proof.map((hash) => hash.toString('hex')),
      checkpoint,
    };
  }

  async consistency(from: number, to: number): Promise<ConsistencyProofView> {
    if (from > to) throw new MerkleProofError(`from (${from}) must not exceed to (${to})`);
    const size = await this.tree.size();
    if (to > size) throw new ProofUnavailableError(`the tree has ${size} entries, not ${to}`);
    const proof = await consistencyProof(from, to, this.tree);
    return { from, to, proof: proof.map((hash) => hash.toString('hex')) };
  }

  /** The C2SP tlog-proof of `sequence` in the latest checkpoint. */
  async receipt(sequence: number): Promise<string> {
    const checkpoint = await this.signedAt(undefined);
    if (sequence > checkpoint.length) {
      throw new ProofUnavailableError(
        `sequence ${sequence} is not covered by a checkpoint yet (latest: ${checkpoint.length})`,
      );
    }
    const entry = await this.chain.findBySequence(sequence);
    const index = sequence - 1;
    const [leaf] = await this.tree.readNodes([{ level: 0, index }]);
    // The receipt names the entry only through its leaf: refuse a tree that disagrees with it.
    if (!entry || !leaf.equals(leafHash(Buffer.from(entry.hash, 'hex')))) {
      throw new Error(`the tree's leaf ${index} is not the hash of entry ${sequence}`);
    }
    const proof = await inclusionProof(index, checkpoint.length, this.tree);
    return formatReceipt({ index, proof, checkpointNote: checkpoint.note });
  }

  /** The latest signed note, for /tlog/checkpoint. */
  async latestNote(): Promise<string> {
    return (await this.signedAt(undefined)).note;
  }

  /**
   * Tile `index` of tile level `level` (C2SP tlog-tiles): the hashes of tree level 8·level,
   * nodes 256·index …, `width` of them (256 unless a partial tile is asked for). Served only when
   * all those nodes exist, which makes a full tile immutable.
   */
  async tile(level: number, index: number, width: number): Promise<Buffer> {
    const ids: NodeId[] = Array.from({ length: width }, (_, i) => ({
      level: level * TILE_HEIGHT,
      index: index * TILE_WIDTH + i,
    }));
    const size = await this.tree.size();
    const last = ids[ids.length - 1];
    if ((last.index + 1) * 2 ** last.level > size) {
      throw new ProofUnavailableError(
        `tile ${level}/${index} of width ${width} does not exist yet`,
      );
    }
    return Buffer.concat(await this.tree.readNodes(ids));
  }

  private async signedAt(size: number | undefined): Promise<CheckpointView> {
    const checkpoint =
      size === undefined ? await this.checkpoints.latest() : await this.checkpoints.atLength(size);
    if (!checkpoint) {
      throw new ProofUnavailableError(
        size === undefined ? 'no checkpoint has been signed yet' : `no checkpoint at size ${size}`,
      );
    }
    if (!checkpoint.root_hash) {
      throw new ProofUnavailableError(
        `the checkpoint at size ${checkpoint.length} predates the Merkle tree`,
      );
    }
    return checkpoint;
  }
}
