import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AutomationService, type JobView } from '../automation/automation.service.js';
import type { RecordedRun } from '../automation/engine/automation-run.repository.js';
import { StatusService } from '../bucket/status.service.js';
import type { ModuleStatus } from '../client/bridge-wire.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ClusterFigures, type SecurityFigures } from '../health/cluster-figures.js';
import { CheckpointService } from '../provenance/checkpoint.service.js';
import { SecurityAudit } from '../security/security-audit.service.js';
import {
  InsightRepository,
  type ReplicaView,
  type SecurityEventView,
  type SeriesPoint,
} from './insight.repository.js';
import { RequestFiguresAdapter } from './request-figures.adapter.js';

/** However many dashboards are open, one round of aggregate queries per this many ms at most. */
export const SNAPSHOT_MAX_AGE_MS = 1000;
/** The 24-hour series changes slowly and scans the most rows: it is refreshed this rarely. */
const DAY_SERIES_MAX_AGE_MS = 60_000;
const REPLICA_BEAT_MS = 5000;
/** A replica that has not beaten for this long is no longer listed. */
const REPLICA_SEEN_WINDOW_MS = 60_000;
const NOW_WINDOW_SECONDS = 10;
const EVENTS_SHOWN = 50;
const RUNS_SHOWN = 10;

export interface InsightSnapshot {
  generated_at: string;
  node: string;
  tiles: SecurityFigures & { accepted_per_second: number };
  series: {
    last_15_minutes: { bin_seconds: number; points: SeriesPoint[] };
    last_24_hours: { bin_seconds: number; points: SeriesPoint[] };
  };
  events: SecurityEventView[];
  modules: ModuleStatus[];
  stale_after_seconds: number;
  chain: {
    length: number;
    head_hash: string;
    checkpoint: { length: number; timestamp: string } | null;
  };
  automation: { scheduling: boolean; jobs: JobView[]; runs: RecordedRun[] } | null;
  replicas: ReplicaView[];
}

/**
 * The dashboard's figures, read once and shared by every open page and stream of this replica
 * (SPEC §10): a read within `SNAPSHOT_MAX_AGE_MS` of the last round, or while one is in flight,
 * gets that round's result.
 */
@Injectable()
export class InsightSnapshotService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(InsightSnapshotService.name);
  private readonly startedAt = new Date();
  private cached: { at: number; snapshot: Promise<InsightSnapshot> } | undefined;
  private daySeries: { at: number; points: Promise<SeriesPoint[]> } | undefined;
  private beatTimer: NodeJS.Timeout | undefined;
  private automation: AutomationService | null | undefined;
  /** Rounds of aggregate queries run so far (what the "one round per second" test counts). */
  rounds = 0;

  constructor(
    private readonly repository: InsightRepository,
    private readonly figures: ClusterFigures,
    private readonly status: StatusService,
    private readonly checkpoints: CheckpointService,
    private readonly audit: SecurityAudit,
    private readonly requests: RequestFiguresAdapter,
    private readonly moduleRef: ModuleRef,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.beat();
    this.beatTimer = setInterval(() => void this.beat(), REPLICA_BEAT_MS);
    this.beatTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.beatTimer);
  }

  snapshot(nowMs = Date.now()): Promise<InsightSnapshot> {
    if (!this.cached || nowMs - this.cached.at >= SNAPSHOT_MAX_AGE_MS) {
      const snapshot = this.readRound(new Date(nowMs));
      // A failed round is not cached: the next reader tries again.
      snapshot.catch(() => (this.cached = undefined));
      this.cached = { at: nowMs, snapshot };
    }
    return this.cached.snapshot;
  }

  private async readRound(now: Date): Promise<InsightSnapshot> {
    this.rounds += 1;
    const automation = this.automationService();
    const since = (ms: number) => new Date(now.getTime() - ms);
    // This instance's latest rejections are written in batches: counters and the list agree after.
    await this.audit.flush();
    const [cluster, status, quarter, day, acceptedNow, events, checkpoint, replicas, jobs, runs] =
      await Promise.all([
        this.figures.read(),
        this.status.status({}, now),
        this.repository.series(since(15 * 60_000), 10),
        this.daySeriesAt(now),
        this.repository.acceptedSince(since(NOW_WINDOW_SECONDS * 1000)),
        this.repository.latestEvents(EVENTS_SHOWN),
        this.checkpoints.latest(),
        this.repository.replicasSeenSince(since(REPLICA_SEEN_WINDOW_MS)),
        automation?.jobs(),
        automation?.history(undefined, RUNS_SHOWN),
      ]);
    return {
      generated_at: now.toISOString(),
      node: this.config.nodeId,
      tiles: {
        ...cluster.security,
        accepted_per_second: Math.round((acceptedNow / NOW_WINDOW_SECONDS) * 10) / 10,
      },
      series: {
        last_15_minutes: { bin_seconds: 10, points: quarter },
        last_24_hours: { bin_seconds: 600, points: day },
      },
      events,
      modules: status.modules,
      stale_after_seconds: status.stale_after_seconds,
      chain: {
        ...cluster.chain,
        checkpoint: checkpoint
          ? { length: checkpoint.length, timestamp: checkpoint.timestamp }
          : null,
      },
      automation:
        jobs && runs ? { scheduling: jobs.scheduling, jobs: jobs.jobs, runs: runs.runs } : null,
      replicas,
    };
  }

  private daySeriesAt(now: Date): Promise<SeriesPoint[]> {
    if (!this.daySeries || now.getTime() - this.daySeries.at >= DAY_SERIES_MAX_AGE_MS) {
      const points = this.repository.series(new Date(now.getTime() - 24 * 3600_000), 600);
      points.catch(() => (this.daySeries = undefined));
      this.daySeries = { at: now.getTime(), points };
    }
    return this.daySeries.points;
  }

  /** The automation engine's own service, read in-process: its HTTP API refuses auditors. */
  private automationService(): AutomationService | null {
    if (this.automation !== undefined) return this.automation;
    try {
      this.automation = this.moduleRef.get(AutomationService, { strict: false }) ?? null;
    } catch {
      this.automation = null;
    }
    return this.automation;
  }

  private async beat(): Promise<void> {
    try {
      await this.repository.beat(this.config.nodeId, this.startedAt, await this.requests.read());
    } catch (error) {
      this.logger.warn(`replica beat failed: ${(error as Error).message}`);
    }
  }
}
