import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { CheckpointRefusedError, CheckpointService } from './checkpoint.service.js';

/** How often each replica asks whether a checkpoint is due when freshness is off. */
const DUE_CHECK_INTERVAL_MS = 30_000;

/**
 * Signs checkpoints at most CHECKPOINT_FRESHNESS_MS after the chain grew, or every
 * CHECKPOINT_EVERY_ENTRIES entries or CHECKPOINT_INTERVAL_MINUTES. Every replica asks that often;
 * the checkpoint lock (a try-lock) lets one of them sign per interval for the whole cluster.
 */
@Injectable()
export class CheckpointScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(CheckpointScheduler.name);
  private readonly enabled: boolean;
  private readonly pollMs: number;
  /** A slow signing (a first checkpoint verifies the whole chain) must not pile up calls. */
  private running = false;

  constructor(
    private readonly checkpoints: CheckpointService,
    private readonly registry: SchedulerRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.enabled =
      config.checkpointFreshnessMs > 0 ||
      config.checkpointEveryEntries > 0 ||
      config.checkpointIntervalMinutes > 0;
    this.pollMs = config.checkpointFreshnessMs || DUE_CHECK_INTERVAL_MS;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled) return;
    // The registry clears the interval when the application shuts down.
    this.registry.addInterval(
      CheckpointScheduler.name,
      setInterval(() => void this.signIfDue(), this.pollMs),
    );
  }

  async signIfDue(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.checkpoints.checkpointIfDue();
    } catch (error) {
      // A refusal is already logged as an error by the service: it means tampering.
      if (!(error instanceof CheckpointRefusedError)) {
        this.logger.warn(`periodic checkpoint failed: ${(error as Error).message}`);
      }
    } finally {
      this.running = false;
    }
  }
}
