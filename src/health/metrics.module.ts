import { Global, Module } from '@nestjs/common';
import { OutcomeRecorder } from '../common/outcome-recorder.js';
import { ProvenanceModule } from '../provenance/provenance.module.js';
import { MetricsStore } from './metrics-store.js';

/**
 * The metrics store, global because those who report outcomes (the intake, the error filter) sit
 * in modules that `HealthModule` itself imports.
 */
@Global()
@Module({
  imports: [ProvenanceModule],
  providers: [MetricsStore, { provide: OutcomeRecorder, useExisting: MetricsStore }],
  exports: [MetricsStore, OutcomeRecorder],
})
export class MetricsModule {}
