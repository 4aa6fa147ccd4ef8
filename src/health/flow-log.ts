import { Injectable } from '@nestjs/common';
import type { EventKind } from '../common/event-kinds.js';
import { LogMirror } from '../common/log-mirror.js';

/** A finished update or heartbeat request, as `flow.log` records it. */
export interface FlowOutcome {
  kind: EventKind;
  status: number;
  /** The SPEC §4 reason when the request was rejected. */
  rejectionReason: string | undefined;
  /** `payload.module` when the body got far enough to be read. */
  module: string | undefined;
  latencyMs: number;
}

/**
 * The seed's InsightFlow log (`flow.log`): one JSON line per accepted or rejected update or
 * heartbeat with its module, outcome and latency. Written only when `LOG_DIR` is set.
 */
@Injectable()
export class FlowLog {
  constructor(private readonly mirror: LogMirror) {}

  get enabled(): boolean {
    return this.mirror.enabled;
  }

  write(outcome: FlowOutcome): void {
    const reason = outcome.rejectionReason;
    this.mirror.write('flow.log', {
      time: new Date().toISOString(),
      module: outcome.module ?? null,
      type: outcome.kind,
      // "failed": neither accepted nor refused for a SPEC reason (an internal error).
      outcome: outcome.status === 201 ? 'accepted' : reason ? 'rejected' : 'failed',
      reason,
      status: outcome.status,
      latency_ms: Math.round(outcome.latencyMs * 1000) / 1000,
    });
  }
}
