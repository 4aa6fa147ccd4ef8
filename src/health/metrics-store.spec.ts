import type { AppConfig } from '../config/app-config.js';
import type { ChainRepository } from '../provenance/chain.repository.js';
import { percentilesOf } from './latency-buckets.js';
import { MetricsStore } from './metrics-store.js';

function store(): MetricsStore {
  const chain = { head: () => Promise.resolve({ length: 0 }) } as unknown as ChainRepository;
  return new MetricsStore(chain, { metricsEnabled: false } as AppConfig);
}

describe('MetricsStore', () => {
  it('counts requests by route and status from the one histogram', async () => {
    const metrics = store();
    metrics.observeRequest('POST', '/core/update', 201, 1);
    metrics.observeRequest('POST', '/core/update', 201, 1);
    metrics.observeRequest('POST', '/core/update', 409, 1);
    metrics.observeRequest('GET', '/bucket/status', 200, 1);

    const figures = await metrics.performance();
    expect(figures.requests_total).toBe(4);
    expect(figures.requests_by_route).toEqual({
      'GET /bucket/status': { '200': 1 },
      'POST /core/update': { '201': 2, '409': 1 },
    });
  });

  it('reports percentiles and the rate of the window from the same histogram', async () => {
    const metrics = store();
    for (let i = 0; i < 90; i += 1) metrics.observeRequest('GET', '/x', 200, 2);
    for (let i = 0; i < 10; i += 1) metrics.observeRequest('GET', '/x', 200, 40);

    const figures = await metrics.performance(Date.now() + 100_000);
    expect(figures.latency_ms).toMatchObject({ samples: 100 });
    expect(figures.latency_ms.p50).toBeGreaterThan(1);
    expect(figures.latency_ms.p50).toBeLessThanOrEqual(2.5);
    expect(figures.latency_ms.p99).toBeGreaterThan(25);
    expect(figures.latency_ms.p99).toBeLessThanOrEqual(50);
    expect(figures.requests_per_second).toBe(1);
  });

  it('serves what the intake and the filter report in the Prometheus text', async () => {
    const metrics = store();
    metrics.accepted('update');
    metrics.rejected('replay_detected');
    const text = await metrics.text();
    expect(text).toContain('bridge_events_accepted_total{type="update"} 1');
    expect(text).toContain('bridge_requests_rejected_total{reason="replay_detected"} 1');
  });
});

describe('percentilesOf', () => {
  it('interpolates inside the bucket, as histogram_quantile does', () => {
    // 10 requests ≤ 1 ms, 10 more ≤ 2.5 ms; then none until +Inf.
    const cumulative = [10, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20];
    const { samples, p50, p95, p99 } = percentilesOf(cumulative);
    expect([samples, p50]).toEqual([20, 1]);
    expect(p95).toBeCloseTo(2.35, 9);
    expect(p99).toBeCloseTo(2.47, 9);
  });

  it('reports zeros while empty, and the last bound for ranks beyond it', () => {
    expect(percentilesOf(new Array<number>(14).fill(0))).toEqual({
      samples: 0,
      p50: 0,
      p95: 0,
      p99: 0,
    });
    const slow = [...new Array<number>(13).fill(0), 5];
    expect(percentilesOf(slow).p50).toBe(10_000);
  });
});
