export interface LatencyPercentiles {
  /** How many of the most recent requests the percentiles cover. */
  samples: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * The latencies of the last `capacity` requests in a ring buffer: recording is O(1) and
 * allocation free, so it costs nothing on the request path; percentiles are computed (by sorting
 * a copy) only when someone reads them.
 */
export class LatencyWindow {
  private readonly values: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError('capacity must be a positive integer');
    this.values = new Float64Array(capacity);
  }

  record(latencyMs: number): void {
    this.values[this.next] = latencyMs;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled += 1;
  }

  /** Nearest-rank percentiles over the window; zeros while it is empty. */
  percentiles(): LatencyPercentiles {
    const sorted = this.values.slice(0, this.filled).sort();
    return {
      samples: this.filled,
      p50: nearestRank(sorted, 0.5),
      p95: nearestRank(sorted, 0.95),
      p99: nearestRank(sorted, 0.99),
    };
  }
}

function nearestRank(sorted: Float64Array, quantile: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.ceil(quantile * sorted.length) - 1];
}
