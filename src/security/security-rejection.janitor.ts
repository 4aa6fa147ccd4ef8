import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { SecurityEventRepository } from './security-event.repository.js';

const PRUNE_INTERVAL_MS = 60 * 60_000;

/**
 * Keeps `security_rejections` bounded: rows older than `SECURITY_REJECTIONS_RETENTION_DAYS` go;
 * the per-reason counters of `GET /core/health` keep counting them. Safe to run on every replica.
 */
@Injectable()
export class SecurityRejectionJanitor {
  private readonly logger = new Logger(SecurityRejectionJanitor.name);

  constructor(
    private readonly events: SecurityEventRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Interval(PRUNE_INTERVAL_MS)
  async prune(): Promise<void> {
    try {
      const retentionMs = this.config.securityRejectionsRetentionDays * 86_400_000;
      const deleted = await this.events.deleteOccurredBefore(new Date(Date.now() - retentionMs));
      if (deleted > 0) this.logger.debug(`pruned ${deleted} security rejections`);
    } catch (error) {
      this.logger.warn(`security rejection pruning failed: ${(error as Error).message}`);
    }
  }
}
