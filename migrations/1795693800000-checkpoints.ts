import type { MigrationInterface, QueryRunner } from 'typeorm';

/** History of the signed chain checkpoints (SPEC §5); one per chain length across all replicas. */
export class Checkpoints1795693800000 implements MigrationInterface {
  name = 'Checkpoints1795693800000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE checkpoints (
        length    bigint      PRIMARY KEY CHECK (length > 0),
        head_hash char(64)    NOT NULL,
        origin    text        NOT NULL,
        signed_at timestamptz NOT NULL,
        note      text        NOT NULL
      )`);
    await runner.query(
      `COMMENT ON COLUMN checkpoints.note IS 'the signed note exactly as served; the signature covers its text'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE checkpoints');
  }
}
