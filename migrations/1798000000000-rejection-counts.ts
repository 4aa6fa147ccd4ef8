import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Repeated rejections are stored once with how many they were (`count`), so a flood of identical
 * bad requests costs one row per flush interval instead of one per request.
 */
export class RejectionCounts1798000000000 implements MigrationInterface {
  name = 'RejectionCounts1798000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `ALTER TABLE security_rejections ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count > 0)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE security_rejections DROP COLUMN count');
  }
}
