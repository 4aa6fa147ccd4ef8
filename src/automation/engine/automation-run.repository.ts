import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { JsonObject } from '../../common/canonical-json.js';
import type { JobScope } from '../jobs/job-config.js';
import type { JobRunResult, RunOutcome } from './job-executor.js';

export type RunTrigger = 'schedule' | 'manual';

export interface RunStart {
  job: string;
  plugin: string;
  node: string;
  scope: JobScope;
  trigger: RunTrigger;
  startedAt: Date;
}

/** One row of `automation_runs` as the control API shows it. */
export interface RecordedRun {
  id: number;
  job: string;
  plugin: string;
  node: string;
  scope: JobScope;
  trigger: RunTrigger;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  /** `running` until the run ends; `interrupted` when its replica stopped before it ended. */
  outcome: RunOutcome | 'running' | 'interrupted';
  error: string | null;
  result: JsonObject | null;
}

type RunRow = Omit<RecordedRun, 'id' | 'started_at' | 'finished_at'> & {
  id: string;
  started_at: Date;
  finished_at: Date | null;
};

const COLUMNS = `id, job, plugin, node, scope, trigger, started_at, finished_at, duration_ms, outcome,
  error, result`;

/** `automation_runs`: every run of every job on every replica, for the control API and dashboard. */
@Injectable()
export class AutomationRunRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records a run as `running` and returns its id. */
  async start(run: RunStart): Promise<number> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO automation_runs (job, plugin, node, scope, trigger, started_at, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, 'running') RETURNING id`,
      [run.job, run.plugin, run.node, run.scope, run.trigger, run.startedAt],
    );
    return Number(rows[0].id);
  }

  async finish(id: number, result: JobRunResult): Promise<void> {
    await this.dataSource.query(
      `UPDATE automation_runs
       SET finished_at = now(), duration_ms = $2, outcome = $3, error = $4, result = $5
       WHERE id = $1`,
      [id, result.durationMs, result.outcome, result.error, JSON.stringify(result.results)],
    );
  }

  /** Runs a previous process of this node left `running` can never finish. */
  async markInterrupted(node: string): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      `UPDATE automation_runs SET outcome = 'interrupted', error = 'the replica stopped during the run'
       WHERE node = $1 AND outcome = 'running'`,
      [node],
    );
    return count;
  }

  /** Newest first, optionally of one job. */
  async list(job: string | undefined, limit: number): Promise<RecordedRun[]> {
    const rows: RunRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM automation_runs
       WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC, id DESC LIMIT $2`,
      [job ?? null, limit],
    );
    return rows.map(toRecordedRun);
  }

  /** The latest run of each job, on any replica. */
  async latestPerJob(): Promise<Map<string, RecordedRun>> {
    const rows: RunRow[] = await this.dataSource.query(
      `SELECT DISTINCT ON (job) ${COLUMNS} FROM automation_runs ORDER BY job, started_at DESC, id DESC`,
    );
    return new Map(rows.map((row) => [row.job, toRecordedRun(row)]));
  }

  async deleteStartedBefore(cutoff: Date): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      'DELETE FROM automation_runs WHERE started_at < $1',
      [cutoff],
    );
    return count;
  }
}

function toRecordedRun(row: RunRow): RecordedRun {
  return {
    ...row,
    id: Number(row.id),
    started_at: row.started_at.toISOString(),
    finished_at: row.finished_at?.toISOString() ?? null,
  };
}
