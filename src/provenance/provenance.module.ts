import { Module } from '@nestjs/common';
import { ChainRepository } from './chain.repository.js';
import { CheckpointController } from './checkpoint.controller.js';
import { CheckpointRepository } from './checkpoint.repository.js';
import { CheckpointScheduler } from './checkpoint.scheduler.js';
import { CheckpointService } from './checkpoint.service.js';
import { MerkleRepository } from './merkle.repository.js';
import { ProofController, TlogController } from './proof.controller.js';
import { ProofService } from './proof.service.js';
import { ProvenanceController } from './provenance.controller.js';
import { ProvenanceService } from './provenance.service.js';

@Module({
  controllers: [ProvenanceController, CheckpointController, ProofController, TlogController],
  providers: [
    ChainRepository,
    ProvenanceService,
    CheckpointRepository,
    CheckpointService,
    CheckpointScheduler,
    MerkleRepository,
    ProofService,
  ],
  exports: [ChainRepository, ProvenanceService, CheckpointService],
})
export class ProvenanceModule {}
