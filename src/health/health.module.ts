import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BucketModule } from '../bucket/bucket.module.js';
import { DatabaseHealthIndicator } from '../database/database.health.js';
import { ProvenanceModule } from '../provenance/provenance.module.js';
import { KeysHealthIndicator } from '../security/keys.health.js';
import { ClusterFigures } from './cluster-figures.js';
import { CoreHealthService } from './core-health.service.js';
import { DrainHealthIndicator } from './drain.health.js';
import { FlowLog } from './flow-log.js';
import { HealthController } from './health.controller.js';
import { HttpMetricsMiddleware } from './http-metrics.middleware.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsSnapshotWriter } from './metrics-snapshot.writer.js';
import { ProcessHealthIndicator } from './process.health.js';
import { ReadinessChecks } from './readiness.checks.js';

/**
 * Probes, `GET /core/health`, Prometheus metrics and the `metrics.jsonl` / `flow.log` mirrors; the
 * request metrics middleware runs from `useOnEveryRequest`.
 */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), BucketModule, ProvenanceModule],
  controllers: [HealthController, MetricsController],
  providers: [
    // Indicators live beside the feature they check; this module composes them.
    DatabaseHealthIndicator,
    KeysHealthIndicator,
    ProcessHealthIndicator,
    DrainHealthIndicator,
    ReadinessChecks,
    FlowLog,
    ClusterFigures,
    CoreHealthService,
    MetricsSnapshotWriter,
    HttpMetricsMiddleware,
  ],
  exports: [ClusterFigures],
})
export class HealthModule {}
