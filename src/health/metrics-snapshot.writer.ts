import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { LogMirror } from '../common/log-mirror.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { CoreHealthService } from './core-health.service.js';

/** Appends the `GET /core/health` report to `metrics.jsonl` every `METRICS_SNAPSHOT_SECONDS`. */
@Injectable()
export class MetricsSnapshotWriter implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MetricsSnapshotWriter.name);
  private timer: NodeJS.Timeout | undefined;
  private writing = false;

  constructor(
    private readonly coreHealth: CoreHealthService,
    private readonly mirror: LogMirror,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.mirror.enabled) return;
    this.timer = setInterval(() => void this.write(), this.config.metricsSnapshotSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async write(): Promise<void> {
    // A slow database must not pile up overlapping snapshots.
    if (this.writing) return;
    this.writing = true;
    try {
      this.mirror.write('metrics.jsonl', await this.coreHealth.report());
    } catch (error) {
      this.logger.warn(`metrics snapshot not written: ${(error as Error).message}`);
    } finally {
      this.writing = false;
    }
  }
}
