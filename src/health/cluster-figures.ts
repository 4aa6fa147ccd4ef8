import { Injectable } from '@nestjs/common';
import { StatusService } from '../bucket/status.service.js';
import { ChainRepository } from '../provenance/chain.repository.js';
import type { RejectionCounts } from '../security/security-event.repository.js';
import { NonceRepository } from '../security/nonce.repository.js';
import { SecurityAudit } from '../security/security-audit.service.js';
import { SecurityEventRepository } from '../security/security-event.repository.js';

/** Reasons that mean a token was presented but refused (a missing token is counted apart). */
const INVALID_TOKEN_REASONS = ['invalid_token', 'token_expired', 'invalid_issuer'];

export interface SecurityFigures {
  accepted: { total: number; updates: number; heartbeats: number };
  rejected_total: number;
  rejected_by_reason: Record<string, number>;
  replay_attempts: number;
  invalid_signatures: number;
  /** invalid_token + token_expired + invalid_issuer */
  invalid_tokens: number;
  nonce_store_size: number;
  last_rejection: RejectionCounts['last'];
}

export interface ClusterFiguresSnapshot {
  security: SecurityFigures;
  chain: { length: number; head_hash: string };
  /** Exact counts; `stale_modules` names the first `STALE_MODULES_LISTED` stale ones by name. */
  heartbeats: { alive: number; stale: number; unknown: number; stale_modules: string[] };
}

/** However many modules went stale, `GET /core/health` and `metrics.jsonl` name at most these. */
export const STALE_MODULES_LISTED = 100;

/** The cluster-wide sections of `GET /core/health`, read from the database every replica shares. */
@Injectable()
export class ClusterFigures {
  constructor(
    private readonly audit: SecurityAudit,
    private readonly securityEvents: SecurityEventRepository,
    private readonly nonces: NonceRepository,
    private readonly status: StatusService,
    private readonly chain: ChainRepository,
  ) {}

  async read(): Promise<ClusterFiguresSnapshot> {
    // This instance's latest rejections are written in batches; include them before counting.
    await this.audit.flush();
    const now = new Date();
    const [rejections, nonceStoreSize, bucket, chain, staleModules] = await Promise.all([
      this.securityEvents.counts(),
      this.nonces.count(),
      this.status.summary(now),
      this.chain.head(),
      this.status.staleModules(STALE_MODULES_LISTED, now),
    ]);
    const byReason = rejections.byReason;
    return {
      security: {
        accepted: {
          total: bucket.totals.updates + bucket.totals.heartbeats,
          updates: bucket.totals.updates,
          heartbeats: bucket.totals.heartbeats,
        },
        rejected_total: rejections.total,
        rejected_by_reason: byReason,
        replay_attempts: byReason.replay_detected ?? 0,
        invalid_signatures: byReason.invalid_signature ?? 0,
        invalid_tokens: INVALID_TOKEN_REASONS.reduce((sum, r) => sum + (byReason[r] ?? 0), 0),
        nonce_store_size: nonceStoreSize,
        last_rejection: rejections.last,
      },
      chain: { length: chain.length, head_hash: chain.hash },
      heartbeats: {
        alive: bucket.summary.alive,
        stale: bucket.summary.stale,
        unknown: bucket.summary.unknown,
        stale_modules: staleModules,
      },
    };
  }
}
