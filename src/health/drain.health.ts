import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * Readiness turns 503 as soon as shutdown begins, then the service keeps serving for
 * `SHUTDOWN_GRACE_SECONDS`, so Kubernetes takes the pod out of its Services before the server
 * stops accepting. Nest runs this hook before it closes the HTTP server.
 */
@Injectable()
export class DrainHealthIndicator implements BeforeApplicationShutdown {
  private readonly logger = new Logger(DrainHealthIndicator.name);
  private draining = false;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  isServing(key: string) {
    const session = this.indicators.check(key);
    return this.draining
      ? session.down({ message: 'shutting down: draining before the server closes' })
      : session.up();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    const graceSeconds = this.config.shutdownGraceSeconds;
    // A server that never listened (a failed start) has no traffic to drain.
    if (graceSeconds === 0 || !this.adapterHost.listening) return;
    this.logger.log(`readiness is now 503; serving ${graceSeconds}s more before closing`);
    await sleep(graceSeconds * 1000);
  }
}
