import type { DataSource } from 'typeorm';
import { EVENT_KINDS } from '../src/common/event-kinds.js';
import { createDataSource } from '../src/database/data-source.js';
import { runMigrationsExclusively } from '../src/database/migrate.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** The migrations stay as shipped; this keeps their CHECK on `chain_entries.type` equal to the list. */
describe('the chain_entries.type constraint (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('event_kinds');
    dataSource = await createDataSource(db.url, 2).initialize();
    await runMigrationsExclusively(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('allows exactly EVENT_KINDS', async () => {
    const checks = await db.query<{ definition: string }>(
      `SELECT pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c JOIN pg_attribute a
           ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
        WHERE c.conrelid = 'chain_entries'::regclass AND c.contype = 'c' AND a.attname = 'type'`,
    );
    expect(checks).toHaveLength(1);
    // PostgreSQL prints `type IN (...)` as `(type = ANY (ARRAY['update'::text, ...]))`.
    const allowed = [...checks[0].definition.matchAll(/'([^']*)'::text/g)].map(([, kind]) => kind);
    expect(allowed.sort()).toEqual([...EVENT_KINDS].sort());
  });
});
