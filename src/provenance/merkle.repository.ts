import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MerkleProofError, type MerkleNodeReader, type NodeId } from './merkle.js';

interface NodeRow {
  level: number;
  idx: string;
  hash: Buffer;
}

/**
 * Reads the stored full subtrees of the chain's Merkle tree (`merkle_nodes`, filled by the trigger
 * of migration 1797000000000). One query per proof, on the primary key: O(log n) rows.
 */
@Injectable()
export class MerkleRepository implements MerkleNodeReader {
  constructor(private readonly dataSource: DataSource) {}

  async readNodes(ids: readonly NodeId[]): Promise<Buffer[]> {
    if (ids.length === 0) return [];
    const rows: NodeRow[] = await this.dataSource.query(
      `SELECT n.level, n.idx, n.hash
       FROM unnest($1::smallint[], $2::bigint[]) AS w(level, idx)
       JOIN merkle_nodes n ON n.level = w.level AND n.idx = w.idx`,
      [ids.map((id) => id.level), ids.map((id) => id.index)],
    );
    const found = new Map(rows.map((row) => [`${row.level}/${row.idx}`, row.hash]));
    return ids.map(({ level, index }) => {
      const hash = found.get(`${level}/${index}`);
      // Only a tree smaller than asked for lacks a node: callers check sizes against the chain.
      if (!hash) throw new MerkleProofError(`node (${level}, ${index}) is not stored`);
      return hash;
    });
  }

  /** Leaves stored, which equals the committed chain length. */
  async size(): Promise<number> {
    const [{ size }] = (await this.dataSource.query(
      `SELECT coalesce(max(idx) + 1, 0) AS size FROM merkle_nodes WHERE level = 0`,
    )) as Array<{ size: string }>;
    return Number(size);
  }
}
