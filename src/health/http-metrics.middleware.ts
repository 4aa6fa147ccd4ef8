import { performance } from 'node:perf_hooks';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { answeredRejectionOf } from '../common/answered-rejection.js';
import type { BridgeRequest } from '../security/signed-request.js';
import { FlowLog } from './flow-log.js';
import { PrometheusMetrics } from './prometheus-metrics.js';
import { UNMATCHED_ROUTE, type RequestOutcome } from './request-outcome.js';
import { RequestStats } from './request-stats.js';

/** The signed routes of the Bucket controller, whose events `flow.log` and the accepted counter follow. */
const SIGNED_EVENT_TYPES: Record<string, string> = {
  'POST /core/update': 'update',
  'POST /core/heartbeat': 'heartbeat',
};

/**
 * Sees every request finish, rejected by a guard or not, with its route template, status,
 * rejection reason and latency, and hands that one outcome to the performance figures,
 * Prometheus and `flow.log`. Kept to a few map updates per request.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(
    private readonly stats: RequestStats,
    private readonly prometheus: PrometheusMetrics,
    private readonly flowLog: FlowLog,
  ) {}

  use(request: BridgeRequest, response: Response, next: NextFunction): void {
    const startedAt = performance.now();
    // Nest mounts this middleware as a catch-all route, so `request.route` is that route here;
    // a controller route that matches later replaces it.
    const middlewareRoute: unknown = request.route;
    response.once('finish', () => this.observe(request, response, startedAt, middlewareRoute));
    next();
  }

  private observe(
    request: BridgeRequest,
    response: Response,
    startedAt: number,
    middlewareRoute: unknown,
  ): void {
    const outcome: RequestOutcome = {
      method: request.method,
      route: routeTemplateOf(request, middlewareRoute),
      status: response.statusCode,
      rejectionReason: answeredRejectionOf(response),
      module: request.signed?.module,
      latencyMs: performance.now() - startedAt,
      finishedAt: Date.now(),
    };
    const eventType = SIGNED_EVENT_TYPES[`${outcome.method} ${outcome.route}`];
    this.stats.record(outcome);
    this.prometheus.observe(outcome, outcome.status === 201 ? eventType : undefined);
    if (eventType) this.flowLog.write(outcome, eventType);
  }
}

/** The matched route's template (`/provenance/entries/:sequence`), never the raw URL. */
function routeTemplateOf(request: BridgeRequest, middlewareRoute: unknown): string {
  const route: unknown = request.route;
  if (route === middlewareRoute) return UNMATCHED_ROUTE;
  const path: unknown = (route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : UNMATCHED_ROUTE;
}
