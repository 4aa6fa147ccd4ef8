import { Module } from '@nestjs/common';
import { BucketModule } from '../bucket/bucket.module.js';
import { HealthModule } from '../health/health.module.js';
import { ProvenanceModule } from '../provenance/provenance.module.js';
import { InsightController } from './insight.controller.js';
import { InsightRepository } from './insight.repository.js';
import { InsightSnapshotService } from './insight-snapshot.service.js';
import { InsightStreams } from './insight-streams.js';
import { RequestFiguresAdapter } from './request-figures.adapter.js';

/** The InsightFlow dashboard (SPEC §10): its page, its data API and the replicas' beats. */
@Module({
  imports: [BucketModule, HealthModule, ProvenanceModule],
  controllers: [InsightController],
  providers: [InsightRepository, InsightSnapshotService, InsightStreams, RequestFiguresAdapter],
})
export class InsightModule {}
