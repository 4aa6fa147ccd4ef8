/** Upper bounds (seconds) of `http_request_duration_seconds`; percentiles are read from them too. */
export const LATENCY_BUCKETS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

export interface LatencyPercentiles {
  /** How many requests the percentiles cover. */
  samples: number;
  p50: number;
  p95: number;
  p99: number;
}

/**
 * Percentiles (milliseconds) of cumulative bucket counts, interpolated linearly inside the bucket as
 * Prometheus's `histogram_quantile` does. `cumulative[i]` counts the requests ≤ bucket `i`; the last
 * element is `+Inf` (the total). A rank beyond the last finite bound reports that bound.
 */
export function percentilesOf(cumulative: readonly number[]): LatencyPercentiles {
  const total = cumulative[cumulative.length - 1] ?? 0;
  const quantile = (q: number): number => {
    if (total === 0) return 0;
    const rank = q * total;
    const index = cumulative.findIndex((count) => count >= rank);
    if (index >= LATENCY_BUCKETS_SECONDS.length) return LATENCY_BUCKETS_SECONDS.at(-1)! * 1000;
    const lower = index === 0 ? 0 : LATENCY_BUCKETS_SECONDS[index - 1];
    const below = index === 0 ? 0 : cumulative[index - 1];
    const inBucket = cumulative[index] - below;
    const fraction = inBucket === 0 ? 1 : (rank - below) / inBucket;
    return (lower + (LATENCY_BUCKETS_SECONDS[index] - lower) * fraction) * 1000;
  };
  return { samples: total, p50: quantile(0.5), p95: quantile(0.95), p99: quantile(0.99) };
}
