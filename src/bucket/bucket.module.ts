import { Module } from '@nestjs/common';
import { ProvenanceModule } from '../provenance/provenance.module.js';
import { BucketController } from './bucket.controller.js';
import { BucketRepository } from './bucket.repository.js';
import { IngestionQueue } from './ingestion.queue.js';
import { IntakeService } from './intake.service.js';
import { StatusService } from './status.service.js';

@Module({
  imports: [ProvenanceModule],
  controllers: [BucketController],
  providers: [BucketRepository, IngestionQueue, IntakeService, StatusService],
  exports: [StatusService],
})
export class BucketModule {}
