import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventKind } from '../common/event-kinds.js';
import { OutcomeRecorder } from '../common/outcome-recorder.js';
import type { Reason } from '../common/reasons.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { ChainRepository } from '../provenance/chain.repository.js';
import {
  LATENCY_BUCKETS_SECONDS,
  percentilesOf,
  type LatencyPercentiles,
} from './latency-buckets.js';

/** A scrape never waits longer than this for the chain head; the last known length is kept. */
const CHAIN_HEAD_TIMEOUT_MS = 1000;
/** The window of the latency percentiles and the request rate in `GET /core/health`. */
export const PERFORMANCE_WINDOW_SECONDS = 60;
const SNAPSHOT_INTERVAL_MS = 10_000;
const SNAPSHOTS_KEPT = PERFORMANCE_WINDOW_SECONDS / (SNAPSHOT_INTERVAL_MS / 1000);

/** The performance section of `GET /core/health`: this instance only. */
export interface PerformanceFigures {
  requests_total: number;
  /** `"POST /core/update": { "201": 12, "409": 1 }` */
  requests_by_route: Record<string, Record<string, number>>;
  latency_ms: LatencyPercentiles & { window: string };
  requests_per_second: number;
  requests_per_second_window_seconds: number;
}

/** What the histogram holds now: counts by route and status, and its buckets summed over labels. */
interface HistogramReading {
  total: number;
  byRoute: PerformanceFigures['requests_by_route'];
  /** Cumulative bucket counts, `+Inf` (the total) last. */
  buckets: number[];
}

/** The summed buckets at one moment, the baseline of the window. */
interface Snapshot {
  atMs: number;
  buckets: number[];
}

/**
 * The one store of this instance's request metrics. Each finished request is one observation of
 * `http_request_duration_seconds` (method, route template, status); `/metrics` exposes it,
 * and `GET /core/health` and `metrics.jsonl` read their counts, percentiles and rate from it.
 * Percentiles and rate cover the last minute the way Prometheus's `increase()` does: the histogram
 * now minus a snapshot of it taken every 10 s, so the request path pays for one observation only.
 * Each app owns its registry, so two bridges in one process (the tests) never share metrics.
 */
@Injectable()
export class MetricsStore extends OutcomeRecorder implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  /** Whether `/metrics` is served; the store records either way, for `GET /core/health`. */
  readonly enabled: boolean;
  private readonly logger = new Logger(MetricsStore.name);
  private readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly acceptedEvents: Counter<'type'>;
  private readonly rejectedRequests: Counter<'reason'>;
  private readonly snapshots: Snapshot[];
  private timer: NodeJS.Timeout | undefined;
  private lastChainLength = 0;

  constructor(
    private readonly chain: ChainRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    super();
    this.enabled = config.metricsEnabled;
    this.snapshots = [{ atMs: Date.now(), buckets: emptyBuckets() }];
    const registers = [this.registry];
    if (this.enabled) collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers,
    });
    this.acceptedEvents = new Counter({
      name: 'bridge_events_accepted_total',
      help: 'Signed updates and heartbeats this instance accepted into the chain',
      labelNames: ['type'],
      registers,
    });
    this.rejectedRequests = new Counter({
      name: 'bridge_requests_rejected_total',
      help: 'Requests this instance rejected, by SPEC reason',
      labelNames: ['reason'],
      registers,
    });
    const chainLength: Gauge = new Gauge({
      name: 'bridge_chain_length',
      help: 'Entries in the provenance chain (cluster-wide, read at scrape time)',
      registers,
      collect: async () => chainLength.set(await this.readChainLength()),
    });
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.takeSnapshot(), SNAPSHOT_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One finished request: the only per-request work of the metrics (one histogram observation). */
  observeRequest(method: string, route: string, status: number, latencyMs: number): void {
    this.requestDuration.observe({ method, route, status }, latencyMs / 1000);
  }

  accepted(kind: EventKind): void {
    this.acceptedEvents.inc({ type: kind });
  }

  rejected(reason: Reason): void {
    this.rejectedRequests.inc({ reason });
  }

  async performance(nowMs = Date.now()): Promise<PerformanceFigures> {
    const { total, byRoute, buckets } = await this.read();
    const base = this.snapshots[0];
    const inWindow = buckets.map((count, index) => count - base.buckets[index]);
    const seconds = Math.max((nowMs - base.atMs) / 1000, 1);
    const round = (value: number) => Math.round(value * 1000) / 1000;
    const latency = percentilesOf(inWindow);
    return {
      requests_total: total,
      requests_by_route: byRoute,
      latency_ms: {
        window: `last ${PERFORMANCE_WINDOW_SECONDS} s (histogram buckets, interpolated)`,
        samples: latency.samples,
        p50: round(latency.p50),
        p95: round(latency.p95),
        p99: round(latency.p99),
      },
      requests_per_second: round(latency.samples / seconds),
      requests_per_second_window_seconds: PERFORMANCE_WINDOW_SECONDS,
    };
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async takeSnapshot(): Promise<void> {
    const atMs = Date.now();
    const { buckets } = await this.read();
    this.snapshots.push({ atMs, buckets });
    if (this.snapshots.length > SNAPSHOTS_KEPT) this.snapshots.shift();
  }

  private async read(): Promise<HistogramReading> {
    const buckets = emptyBuckets();
    const counts: Array<[string, string, number]> = [];
    let total = 0;
    for (const { metricName, labels, value } of (await this.requestDuration.get()).values) {
      if (metricName === 'http_request_duration_seconds_bucket') {
        // prom-client adds the `le` label of each bucket: its bound, or '+Inf'.
        const { le } = labels as { le?: unknown };
        const bound = LATENCY_BUCKETS_SECONDS.indexOf(
          le as (typeof LATENCY_BUCKETS_SECONDS)[number],
        );
        buckets[bound === -1 ? LATENCY_BUCKETS_SECONDS.length : bound] += value;
      } else if (metricName === 'http_request_duration_seconds_count') {
        counts.push([`${labels.method} ${labels.route}`, String(labels.status), value]);
        total += value;
      }
    }
    const byRoute: PerformanceFigures['requests_by_route'] = {};
    counts.sort(([a, x], [b, y]) => a.localeCompare(b) || Number(x) - Number(y));
    for (const [route, status, count] of counts) (byRoute[route] ??= {})[status] = count;
    return { total, byRoute, buckets };
  }

  /** One query per scrape; while the database is away the last known length is reported. */
  private async readChainLength(): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in time')), CHAIN_HEAD_TIMEOUT_MS);
    });
    try {
      this.lastChainLength = (await Promise.race([this.chain.head(), timeout])).length;
    } catch (error) {
      this.logger.warn(`chain length not refreshed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return this.lastChainLength;
  }
}

function emptyBuckets(): number[] {
  return new Array<number>(LATENCY_BUCKETS_SECONDS.length + 1).fill(0);
}
