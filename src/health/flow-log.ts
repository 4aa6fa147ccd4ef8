import { Injectable } from '@nestjs/common';
import { LogMirror } from '../common/log-mirror.js';
import type { RequestOutcome } from './request-outcome.js';

/**
 * The seed's InsightFlow log (`flow.log`): one JSON line per accepted or rejected update or
 * heartbeat with its module, outcome and latency. Written only when `LOG_DIR` is set.
 */
@Injectable()
export class FlowLog {
  constructor(private readonly mirror: LogMirror) {}

  write(outcome: RequestOutcome, type: string): void {
    if (!this.mirror.enabled) return;
    const reason = outcome.rejectionReason;
    this.mirror.write('flow.log', {
      time: new Date(outcome.finishedAt).toISOString(),
      module: outcome.module ?? null,
      type,
      // "failed": neither accepted nor refused for a SPEC reason (an internal error).
      outcome: outcome.status === 201 ? 'accepted' : reason ? 'rejected' : 'failed',
      reason,
      status: outcome.status,
      latency_ms: Math.round(outcome.latencyMs * 1000) / 1000,
    });
  }
}
