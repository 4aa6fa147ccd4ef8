import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AutomationRunRepository } from './automation-run.repository.js';

const PRUNE_INTERVAL_MS = 60 * 60_000;
/** How long run history is kept. */
export const RUN_RETENTION_DAYS = 30;

/** Keeps `automation_runs` bounded. Safe to run on every replica. */
@Injectable()
export class AutomationRunJanitor {
  private readonly logger = new Logger(AutomationRunJanitor.name);

  constructor(private readonly runs: AutomationRunRepository) {}

  @Interval(PRUNE_INTERVAL_MS)
  async prune(): Promise<void> {
    try {
      const cutoff = new Date(Date.now() - RUN_RETENTION_DAYS * 86_400_000);
      const deleted = await this.runs.deleteStartedBefore(cutoff);
      if (deleted > 0) this.logger.debug(`pruned ${deleted} automation runs`);
    } catch (error) {
      this.logger.warn(`automation run pruning failed: ${(error as Error).message}`);
    }
  }
}
