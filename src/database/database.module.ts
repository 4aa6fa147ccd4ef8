import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Provides the already initialized and migrated `DataSource`. Its lifecycle belongs to the
 * bootstrap, which closes it only after the app has closed, so every shutdown hook (draining the
 * ingestion queue, flushing the security log) can still reach the database.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(dataSource: DataSource): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DataSource, useValue: dataSource }],
      exports: [DataSource],
    };
  }
}
