import { Injectable } from '@nestjs/common';
import { MetricsStore } from '../health/metrics-store.js';

/** What InsightFlow shows of one replica's own requests. */
export interface ReplicaRequestFigures {
  requests_total: number;
  requests_per_second: number;
  latency_ms: { samples: number; p50: number; p95: number; p99: number };
}

/** The one place InsightFlow reads this instance's request figures from: the metrics store. */
@Injectable()
export class RequestFiguresAdapter {
  constructor(private readonly metrics: MetricsStore) {}

  async read(): Promise<ReplicaRequestFigures> {
    const { requests_total, requests_per_second, latency_ms } = await this.metrics.performance();
    const { samples, p50, p95, p99 } = latency_ms;
    return { requests_total, requests_per_second, latency_ms: { samples, p50, p95, p99 } };
  }
}
