import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { CheckpointRefusedError, CheckpointService } from './checkpoint.service.js';

/** How often each replica asks whether a checkpoint is due; signing itself is cluster-wide once. */
const DUE_CHECK_INTERVAL_MS = 30_000;

/** Signs checkpoints every CHECKPOINT_EVERY_ENTRIES entries or CHECKPOINT_INTERVAL_MINUTES. */
@Injectable()
export class CheckpointScheduler {
  private readonly logger = new Logger(CheckpointScheduler.name);
  private readonly enabled: boolean;

  constructor(
    private readonly checkpoints: CheckpointService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.enabled = config.checkpointEveryEntries > 0 || config.checkpointIntervalMinutes > 0;
  }

  @Interval(DUE_CHECK_INTERVAL_MS)
  async signIfDue(): Promise<void> {
    if (!this.enabled) return;
    try {
      await this.checkpoints.checkpointIfDue();
    } catch (error) {
      // A refusal is already logged as an error by the service: it means tampering.
      if (!(error instanceof CheckpointRefusedError)) {
        this.logger.warn(`periodic checkpoint failed: ${(error as Error).message}`);
      }
    }
  }
}
