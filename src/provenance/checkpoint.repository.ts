import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AdvisoryLock, withAdvisoryLock } from '../database/advisory-lock.js';

/** A signed checkpoint as kept in the `checkpoints` table. */
export interface StoredCheckpoint {
  length: number;
  headHash: string;
  /** Hex; absent on checkpoints signed before the Merkle tree existed (migration 1797000000001). */
  rootHash?: string;
  origin: string;
  signedAt: Date;
  /** The signed note, byte for byte as signed. */
  note: string;
}

interface CheckpointRow {
  length: string;
  head_hash: string;
  root_hash: string | null;
  origin: string;
  signed_at: Date;
  note: string;
}

const SELECT_CHECKPOINT =
  'SELECT length, head_hash, root_hash, origin, signed_at, note FROM checkpoints';

@Injectable()
export class CheckpointRepository {
  constructor(private readonly dataSource: DataSource) {}

  async latest(): Promise<StoredCheckpoint | undefined> {
    return this.one(`${SELECT_CHECKPOINT} ORDER BY length DESC LIMIT 1`, []);
  }

  async atLength(length: number): Promise<StoredCheckpoint | undefined> {
    return this.one(`${SELECT_CHECKPOINT} WHERE length = $1`, [length]);
  }

  /** Stores `checkpoint` unless one of that length exists; returns the one kept. */
  async insert(checkpoint: StoredCheckpoint): Promise<StoredCheckpoint> {
    await this.dataSource.query(
      `INSERT INTO checkpoints (length, head_hash, root_hash, origin, signed_at, note)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (length) DO NOTHING`,
      [
        checkpoint.length,
        checkpoint.headHash,
        checkpoint.rootHash ?? null,
        checkpoint.origin,
        checkpoint.signedAt,
        checkpoint.note,
      ],
    );
    return (await this.atLength(checkpoint.length))!;
  }

  /**
   * Runs `work` while the cluster-wide checkpoint lock is held, so replicas do not all verify and
   * sign the same new head at once (duplicates would be harmless: the length is the primary key).
   * The lock only scopes `work` in time; `work` reads and writes on pooled connections.
   * `wait: false` gives up at once when another replica holds it (the periodic job) and resolves
   * `undefined` then.
   */
  whileLocked<T>({ wait }: { wait: boolean }, work: () => Promise<T>): Promise<T | undefined> {
    return withAdvisoryLock(this.dataSource, AdvisoryLock.Checkpoint, work, {
      wait,
      scope: 'transaction',
    });
  }

  private async one(sql: string, params: unknown[]): Promise<StoredCheckpoint | undefined> {
    const rows: CheckpointRow[] = await this.dataSource.query(sql, params);
    if (rows.length === 0) return undefined;
    const [row] = rows;
    return {
      length: Number(row.length),
      headHash: row.head_hash,
      ...(row.root_hash === null ? {} : { rootHash: row.root_hash }),
      origin: row.origin,
      signedAt: row.signed_at,
      note: row.note,
    };
  }
}
