import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * InsightFlow (SPEC §10): a BRIN index for the accepted-per-second series (bucket_events grows in
 * received_at order, so a BRIN index costs the hot insert path next to nothing, unlike a B-tree),
 * the client address of each rejection, and the replicas' own heartbeats with their latency figures.
 */
export class Insight1797500000000 implements MigrationInterface {
  name = 'Insight1797500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX bucket_events_received_at_brin ON bucket_events USING brin (received_at)`,
    );
    await runner.query(`ALTER TABLE security_rejections ADD COLUMN client_address text`);
    await runner.query(`
      CREATE TABLE insight_replicas (
        node       text PRIMARY KEY,
        started_at timestamptz NOT NULL,
        seen_at    timestamptz NOT NULL,
        figures    jsonb NOT NULL
      )`);
    await runner.query(
      `COMMENT ON TABLE insight_replicas IS 'each replica''s latest beat: request count, rate and latency percentiles'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE insight_replicas');
    await runner.query('ALTER TABLE security_rejections DROP COLUMN client_address');
    await runner.query('DROP INDEX bucket_events_received_at_brin');
  }
}
