import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * First key of the automation's advisory locks (the second is `hashtext(job)`). Two-key locks
 * live apart from the one-key lock the migrations take.
 */
const LOCK_NAMESPACE = 0x6175746f; // "auto"

/** Held while a cluster job runs on this replica. */
export interface ClusterLock {
  release(): Promise<void>;
}

/**
 * Makes a cluster-scoped job run once per tick across replicas. Two mechanisms, because each
 * alone is not enough: the advisory lock keeps runs from overlapping while one is in progress
 * (it dies with the connection if the replica does), and the tick lease keeps a replica whose
 * timer fired a moment later from running the same tick again after the first run released it.
 */
@Injectable()
export class ClusterLeaseRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Takes the job's session advisory lock on a dedicated connection, held until `release()`.
   * Undefined when another replica holds it.
   */
  async tryLock(job: string): Promise<ClusterLock | undefined> {
    const connection = this.dataSource.createQueryRunner();
    await connection.connect();
    try {
      const [{ locked }]: Array<{ locked: boolean }> = await connection.query(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [LOCK_NAMESPACE, job],
      );
      if (!locked) {
        await connection.release();
        return undefined;
      }
    } catch (error) {
      await connection.release();
      throw error;
    }
    return {
      release: async () => {
        try {
          await connection.query('SELECT pg_advisory_unlock($1, hashtext($2))', [
            LOCK_NAMESPACE,
            job,
          ]);
        } finally {
          await connection.release();
        }
      },
    };
  }

  /**
   * Claims `tick` of `job` for `node`. False when some replica already claimed this tick (or a
   * later one). One row per job: the table stays as small as the job list.
   */
  async claimTick(job: string, tick: Date, node: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO automation_leases (job, tick, node, claimed_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (job) DO UPDATE SET tick = EXCLUDED.tick, node = EXCLUDED.node, claimed_at = now()
         WHERE automation_leases.tick < EXCLUDED.tick
       RETURNING job`,
      [job, tick, node],
    );
    return rows.length === 1;
  }
}
