import { Injectable } from '@nestjs/common';
import { LatencyWindow, type LatencyPercentiles } from './latency-window.js';
import { RateWindow } from './rate-window.js';
import type { RequestOutcome } from './request-outcome.js';

/** Latency percentiles cover this many most recent requests. */
export const LATENCY_WINDOW_REQUESTS = 10_000;
/** The request rate is averaged over this many seconds. */
export const RATE_WINDOW_SECONDS = 60;

/** The performance section of `GET /core/health`: this instance only. */
export interface PerformanceFigures {
  requests_total: number;
  /** `"POST /core/update": { "201": 12, "409": 1 }` */
  requests_by_route: Record<string, Record<string, number>>;
  latency_ms: LatencyPercentiles & { window: string };
  requests_per_second: number;
  requests_per_second_window_seconds: number;
}

/** Request counts, latency and rate of this instance, recorded in O(1) per request. */
@Injectable()
export class RequestStats {
  private total = 0;
  private readonly byRoute = new Map<string, Map<number, number>>();
  private readonly latency = new LatencyWindow(LATENCY_WINDOW_REQUESTS);
  private readonly rate = new RateWindow(RATE_WINDOW_SECONDS);

  record(outcome: RequestOutcome): void {
    this.total += 1;
    const route = `${outcome.method} ${outcome.route}`;
    let statuses = this.byRoute.get(route);
    if (!statuses) {
      statuses = new Map();
      this.byRoute.set(route, statuses);
    }
    statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
    this.latency.record(outcome.latencyMs);
    this.rate.record(outcome.finishedAt);
  }

  figures(nowMs = Date.now()): PerformanceFigures {
    const byRoute: PerformanceFigures['requests_by_route'] = {};
    for (const [route, statuses] of [...this.byRoute].sort(([a], [b]) => a.localeCompare(b))) {
      byRoute[route] = Object.fromEntries(
        [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => [String(status), count]),
      );
    }
    return {
      requests_total: this.total,
      requests_by_route: byRoute,
      latency_ms: {
        window: `last ${LATENCY_WINDOW_REQUESTS} requests`,
        ...roundPercentiles(this.latency.percentiles()),
      },
      requests_per_second: Math.round(this.rate.perSecond(nowMs) * 1000) / 1000,
      requests_per_second_window_seconds: RATE_WINDOW_SECONDS,
    };
  }
}

function roundPercentiles(figures: LatencyPercentiles): LatencyPercentiles {
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    samples: figures.samples,
    p50: round(figures.p50),
    p95: round(figures.p95),
    p99: round(figures.p99),
  };
}
