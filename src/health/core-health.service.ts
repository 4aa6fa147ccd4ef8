import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_VERSION } from './app-version.js';
import { ClusterFigures, type ClusterFiguresSnapshot } from './cluster-figures.js';
import { DATABASE_CHECK, ReadinessChecks } from './readiness.checks.js';
import { MetricsStore, type PerformanceFigures } from './metrics-store.js';

/** The body of `GET /core/health` and of each `metrics.jsonl` line. */
export interface CoreHealthReport {
  status: HealthCheckResult['status'];
  time: string;
  node_id: string;
  version: string;
  uptime_seconds: number;
  checks: HealthCheckResult['details'];
  performance: PerformanceFigures;
  /** The cluster-wide sections are null while the database cannot be read. */
  security: ClusterFiguresSnapshot['security'] | null;
  chain: ClusterFiguresSnapshot['chain'] | null;
  heartbeats: ClusterFiguresSnapshot['heartbeats'] | null;
}

/** A failed check or a shutdown: `GET /core/health` answers 503 with the report as its body. */
export class CoreHealthFailedError extends Error {
  constructor(readonly report: CoreHealthReport) {
    super(`health is ${report.status}`);
    this.name = 'CoreHealthFailedError';
  }
}

/** SPEC §6 `GET /core/health`: the readiness checks, this instance's performance, cluster figures. */
@Injectable()
export class CoreHealthService {
  private readonly logger = new Logger(CoreHealthService.name);

  constructor(
    private readonly health: HealthCheckService,
    private readonly readiness: ReadinessChecks,
    private readonly metrics: MetricsStore,
    private readonly cluster: ClusterFigures,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The report, whatever the checks say. */
  async report(): Promise<CoreHealthReport> {
    const checks = await this.runChecks();
    const cluster =
      checks.details[DATABASE_CHECK]?.status === 'up' ? await this.readCluster() : null;
    return {
      status: checks.status,
      time: new Date().toISOString(),
      node_id: this.config.nodeId,
      version: APP_VERSION,
      uptime_seconds: Math.round(process.uptime()),
      checks: checks.details,
      performance: await this.metrics.performance(),
      security: cluster?.security ?? null,
      chain: cluster?.chain ?? null,
      heartbeats: cluster?.heartbeats ?? null,
    };
  }

  /** The report, thrown as `CoreHealthFailedError` when a check fails or shutdown began. */
  async reportOrFail(): Promise<CoreHealthReport> {
    const report = await this.report();
    if (report.status !== 'ok') throw new CoreHealthFailedError(report);
    return report;
  }

  /** Terminus throws a 503 carrying the result when a check fails; here the result is the answer. */
  private async runChecks(): Promise<HealthCheckResult> {
    try {
      return await this.health.check(this.readiness.indicators);
    } catch (error) {
      if (error instanceof ServiceUnavailableException)
        return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }

  private async readCluster(): Promise<ClusterFiguresSnapshot | null> {
    try {
      return await this.cluster.read();
    } catch (error) {
      this.logger.warn(`cluster figures unavailable: ${(error as Error).message}`);
      return null;
    }
  }
}
