import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Serializes checkpoint signing across replicas, so they do not all verify and sign the same new
 * head at once. Duplicates would be harmless anyway: the length is the primary key.
 */
const CHECKPOINT_LOCK_KEY = 0x63706b; // "cpk"

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
   * Runs `work` while holding the cluster-wide checkpoint lock. `wait: false` gives up at once
   * when another replica holds it (the periodic job) and resolves `undefined` then.
   */
  async withLock<T>(wait: boolean, work: () => Promise<T>): Promise<T | undefined> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const [{ locked }] = (await runner.query(
        wait
          ? 'SELECT true AS locked FROM pg_advisory_xact_lock($1)'
          : 'SELECT pg_try_advisory_xact_lock($1) AS locked',
        [CHECKPOINT_LOCK_KEY],
      )) as Array<{ locked: boolean }>;
      const result = locked ? await work() : undefined;
      await runner.commitTransaction();
      return result;
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
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
