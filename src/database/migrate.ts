import type { DataSource } from 'typeorm';
import { AdvisoryLock, withAdvisoryLock } from './advisory-lock.js';

/**
 * Runs pending migrations while holding a session-level advisory lock on a dedicated connection,
 * so replicas starting together migrate one after another and the later ones find nothing to do.
 * Needs a pool of at least two connections.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<string[]> {
  const applied = await withAdvisoryLock(
    dataSource,
    AdvisoryLock.Migrations,
    () => dataSource.runMigrations({ transaction: 'each' }),
    { wait: true, scope: 'session' },
  );
  return applied.map((migration) => migration.name);
}

/** True when every known migration is recorded as applied (readiness). */
export async function migrationsAreApplied(dataSource: DataSource): Promise<boolean> {
  return !(await dataSource.showMigrations());
}
