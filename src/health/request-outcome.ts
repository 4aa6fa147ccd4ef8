/** One finished HTTP request, as the metrics middleware saw it. */
export interface RequestOutcome {
  method: string;
  /** The route template (`/provenance/entries/:sequence`), or `UNMATCHED_ROUTE`. */
  route: string;
  status: number;
  /** The SPEC §4 reason when the request was rejected. */
  rejectionReason: string | undefined;
  /** `payload.module` when the body got far enough to be read. */
  module: string | undefined;
  latencyMs: number;
  finishedAt: number;
}

/** The route label of requests no route matched, so unknown URLs cannot grow the label set. */
export const UNMATCHED_ROUTE = 'unmatched';
