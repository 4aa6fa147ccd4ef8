import type { DataSource } from 'typeorm';

/** Arbitrary but fixed: the advisory lock key every replica takes before migrating. */
const MIGRATION_LOCK_KEY = 0x62726467; // "brdg"

/**
 * Runs pending migrations while holding a session-level advisory lock on a dedicated connection,
 * so replicas starting together migrate one after another and the later ones find nothing to do.
 * Needs a pool of at least two connections.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<string[]> {
  const lockHolder = dataSource.createQueryRunner();
  await lockHolder.connect();
  try {
    await lockHolder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lockHolder
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    await lockHolder.release();
  }
}

/** True when every known migration is recorded as applied (readiness). */
export async function migrationsAreApplied(dataSource: DataSource): Promise<boolean> {
  return !(await dataSource.showMigrations());
}
