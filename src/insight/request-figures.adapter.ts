import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { RequestStats } from '../health/request-stats.js';

/** What InsightFlow shows of one replica's own requests. */
export interface ReplicaRequestFigures {
  requests_total: number;
  requests_per_second: number;
  latency_ms: { samples: number; p50: number; p95: number; p99: number };
}

/**
 * The one place InsightFlow reads this instance's request figures from. It points at the health
 * module's `RequestStats` today; when one metrics store replaces it, only this file changes.
 */
@Injectable()
export class RequestFiguresAdapter {
  private stats: RequestStats | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  read(): ReplicaRequestFigures {
    const stats = (this.stats ??= this.moduleRef.get(RequestStats, { strict: false }));
    if (!stats) throw new Error('RequestStats is not registered');
    const { requests_total, requests_per_second, latency_ms } = stats.figures();
    const { samples, p50, p95, p99 } = latency_ms;
    return { requests_total, requests_per_second, latency_ms: { samples, p50, p95, p99 } };
  }
}
