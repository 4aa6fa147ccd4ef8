import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Checkpoints carry the Merkle root of their length (SPEC §5a). Checkpoints signed before the tree
 * existed keep a NULL root: their notes state the head hash only, and the next checkpoint is
 * checked against them through the chain alone.
 */
export class CheckpointRoot1797000000001 implements MigrationInterface {
  name = 'CheckpointRoot1797000000001';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE checkpoints ADD COLUMN root_hash char(64)');
    await runner.query(
      `COMMENT ON COLUMN checkpoints.root_hash IS 'RFC 9162 root of the first length entries, hex; NULL before the tree'`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE checkpoints DROP COLUMN root_hash');
  }
}
