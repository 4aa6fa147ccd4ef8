import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  acquireSessionLock,
  AdvisoryLock,
  type HeldAdvisoryLock,
} from '../../database/advisory-lock.js';

/** Held while a cluster job runs on this replica. */
export type ClusterLock = HeldAdvisoryLock;

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
  tryLock(job: string): Promise<ClusterLock | undefined> {
    return acquireSessionLock(this.dataSource, [AdvisoryLock.AutomationJob, job], { wait: false });
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
