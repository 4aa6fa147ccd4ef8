import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Automation run history (SPEC §8) and the tick leases of cluster-scoped jobs. */
export class AutomationRuns1795700000000 implements MigrationInterface {
  name = 'AutomationRuns1795700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE automation_runs (
        id          bigserial PRIMARY KEY,
        job         text NOT NULL,
        plugin      text NOT NULL,
        node        text NOT NULL,
        scope       text NOT NULL CHECK (scope IN ('node', 'cluster')),
        trigger     text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
        started_at  timestamptz NOT NULL,
        finished_at timestamptz,
        duration_ms integer,
        outcome     text NOT NULL CHECK (outcome IN
                      ('running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'interrupted')),
        error       text,
        result      jsonb
      )`);
    await runner.query(
      `COMMENT ON COLUMN automation_runs.plugin IS 'the plugins of the job''s actions, in order, comma-separated'`,
    );
    await runner.query(
      `CREATE INDEX automation_runs_job_started_at_idx ON automation_runs (job, started_at DESC)`,
    );
    await runner.query(
      `CREATE INDEX automation_runs_started_at_idx ON automation_runs (started_at DESC)`,
    );
    await runner.query(`
      CREATE TABLE automation_leases (
        job        text PRIMARY KEY,
        tick       timestamptz NOT NULL,
        node       text NOT NULL,
        claimed_at timestamptz NOT NULL
      )`);
    await runner.query(
      `COMMENT ON TABLE automation_leases IS 'the latest tick of each cluster-scoped job and the replica that ran it'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE automation_leases');
    await runner.query('DROP TABLE automation_runs');
  }
}
