import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

/**
 * The one data-source definition, shared by the app, the CLIs and the tests. TypeORM owns the
 * pool, transactions and migrations; repositories write explicit set-based SQL, because appends
 * are batched with `unnest` and chain payload text must never be re-serialized by a mapper.
 */
export function dataSourceOptions(url: string, poolSize: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [],
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: {
      max: poolSize,
      connectionTimeoutMillis: 5000,
      application_name: 'core-bucket-bridge',
      // Whatever the server's default: `ingest_events` must read the chain head with a snapshot
      // taken after the chain lock was granted, which READ COMMITTED gives each statement.
      options: '-c default_transaction_isolation=read\\ committed',
    },
  };
}

export function createDataSource(url: string, poolSize: number): DataSource {
  return new DataSource(dataSourceOptions(url, poolSize));
}
