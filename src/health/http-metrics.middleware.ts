import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import type { NextFunction, Response } from 'express';
import { answeredRejectionOf } from '../common/answered-rejection.js';
import type { BridgeRequest } from '../security/signed-request.js';
import { SignedRoutes } from '../security/signed-routes.js';
import { FlowLog } from './flow-log.js';
import { MetricsStore } from './metrics-store.js';

/** The route label of requests no route matched, so unknown URLs cannot grow the label set. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Sees every request finish, rejected by a guard or not, and makes it one observation of the
 * metrics store (route template, status, latency) and, for each `@SignedRequest(kind)` route, one
 * `flow.log` line. Accepted and rejected events are counted where they happen (intake, error filter).
 */
@Injectable()
export class HttpMetricsMiddleware {
  constructor(
    private readonly store: MetricsStore,
    private readonly flowLog: FlowLog,
    private readonly signedRoutes: SignedRoutes,
  ) {}

  use(request: BridgeRequest, response: Response, next: NextFunction): void {
    const startedAt = performance.now();
    response.once('finish', () => this.observe(request, response, startedAt));
    next();
  }

  private observe(request: BridgeRequest, response: Response, startedAt: number): void {
    const latencyMs = performance.now() - startedAt;
    const route = routeTemplateOf(request);
    this.store.observeRequest(request.method, route, response.statusCode, latencyMs);
    const kind = this.signedRoutes.kindOf(request.method, route);
    if (kind && this.flowLog.enabled) {
      this.flowLog.write({
        kind,
        status: response.statusCode,
        rejectionReason: answeredRejectionOf(response),
        module: request.signed?.module,
        latencyMs,
      });
    }
  }
}

/**
 * The matched route's template (`/provenance/entries/:sequence`), never the raw URL. This
 * middleware runs ahead of the router, so `request.route` is set only when a route matched.
 */
function routeTemplateOf(request: BridgeRequest): string {
  const route: unknown = request.route;
  const path: unknown = (route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : UNMATCHED_ROUTE;
}
