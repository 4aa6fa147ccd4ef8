import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import type { DataSource } from 'typeorm';
import { ApiReferenceModule } from './api-reference/api-reference.module.js';
import { AutomationModule } from './automation/automation.module.js';
import { BucketModule } from './bucket/bucket.module.js';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { CommonModule } from './common/common.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './health/metrics.module.js';
import { InsightModule } from './insight/insight.module.js';
import { ProvenanceModule } from './provenance/provenance.module.js';
import { SecurityModule } from './security/security.module.js';
import type { SecuritySecrets } from './security/security-secrets.js';

export interface AppDependencies {
  config: AppConfig;
  dataSource: DataSource;
  secrets: SecuritySecrets;
}

/** Composes the feature modules. */
@Module({})
export class AppModule {
  static forRoot({ config, dataSource, secrets }: AppDependencies): DynamicModule {
    return {
      module: AppModule,
      // BucketModule first: Express tries routes in the order they were registered, so the
      // ingestion routes, which take nearly every request, are matched without trying the rest.
      imports: [
        BucketModule,
        ConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        DatabaseModule.forRoot(dataSource),
        CommonModule,
        SecurityModule.forRoot(secrets),
        ProvenanceModule,
        MetricsModule,
        HealthModule,
        AutomationModule.forRoot(config),
        InsightModule,
        ApiReferenceModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ApiExceptionFilter }],
    };
  }
}
