import { LatencyWindow } from './latency-window.js';

describe('LatencyWindow', () => {
  it('reports nearest-rank percentiles of what it holds', () => {
    const window = new LatencyWindow(1000);
    // 1..100 in a shuffled order: the percentiles must not depend on arrival order.
    for (let i = 0; i < 100; i += 1) window.record(((i * 37) % 100) + 1);
    expect(window.percentiles()).toEqual({ samples: 100, p50: 50, p95: 95, p99: 99 });
  });

  it('keeps only the most recent `capacity` latencies', () => {
    const window = new LatencyWindow(10);
    for (let i = 0; i < 10; i += 1) window.record(1000);
    for (let i = 0; i < 10; i += 1) window.record(i + 1);
    expect(window.percentiles()).toEqual({ samples: 10, p50: 5, p95: 10, p99: 10 });
  });

  it('reports zeros while empty, and a single sample as every percentile', () => {
    const window = new LatencyWindow(5);
    expect(window.percentiles()).toEqual({ samples: 0, p50: 0, p95: 0, p99: 0 });
    window.record(2.5);
    expect(window.percentiles()).toEqual({ samples: 1, p50: 2.5, p95: 2.5, p99: 2.5 });
  });

  it('sorts numerically, not as text', () => {
    const window = new LatencyWindow(3);
    [100, 9, 20].forEach((ms) => window.record(ms));
    expect(window.percentiles().p50).toBe(20);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LatencyWindow(0)).toThrow(RangeError);
    expect(() => new LatencyWindow(1.5)).toThrow(RangeError);
  });
});
