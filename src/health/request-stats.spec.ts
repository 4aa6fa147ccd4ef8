import type { RequestOutcome } from './request-outcome.js';
import { LATENCY_WINDOW_REQUESTS, RequestStats } from './request-stats.js';

const NOW = Date.UTC(2026, 10, 26, 10, 0, 30);

function outcome(overrides: Partial<RequestOutcome>): RequestOutcome {
  return {
    method: 'POST',
    route: '/core/update',
    status: 201,
    rejectionReason: undefined,
    module: 'module-a',
    latencyMs: 1,
    finishedAt: NOW,
    ...overrides,
  };
}

describe('RequestStats', () => {
  it('counts requests by route and status', () => {
    const stats = new RequestStats();
    stats.record(outcome({}));
    stats.record(outcome({}));
    stats.record(outcome({ status: 409, rejectionReason: 'replay_detected' }));
    stats.record(outcome({ method: 'GET', route: '/bucket/status', status: 200 }));

    const figures = stats.figures(NOW);
    expect(figures.requests_total).toBe(4);
    expect(figures.requests_by_route).toEqual({
      'GET /bucket/status': { '200': 1 },
      'POST /core/update': { '201': 2, '409': 1 },
    });
  });

  it('reports latency percentiles over the window and the rate over the last minute', () => {
    const stats = new RequestStats();
    for (let ms = 1; ms <= 100; ms += 1) stats.record(outcome({ latencyMs: ms }));
    stats.record(outcome({ latencyMs: 5000, finishedAt: NOW - 120_000 }));

    const figures = stats.figures(NOW);
    expect(figures.latency_ms).toEqual({
      window: `last ${LATENCY_WINDOW_REQUESTS} requests`,
      samples: 101,
      p50: 51,
      p95: 96,
      p99: 100,
    });
    // The request two minutes ago counts in the latency window but not in the rate.
    expect(figures.requests_per_second).toBeCloseTo(100 / 60, 3);
  });
});
