import { Module } from '@nestjs/common';
import { ChainRepository } from './chain.repository.js';
import { ProvenanceController } from './provenance.controller.js';
import { ProvenanceService } from './provenance.service.js';

@Module({
  controllers: [ProvenanceController],
  providers: [ChainRepository, ProvenanceService],
  exports: [ChainRepository, ProvenanceService],
})
export class ProvenanceModule {}
