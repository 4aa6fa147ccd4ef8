import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { ChainRepository } from '../provenance/chain.repository.js';
import type { BucketStatus, ModuleState, ModuleStatus } from '../client/bridge-wire.js';
import { BucketRepository, type ModuleStatsRow } from './bucket.repository.js';

/** SPEC §6 `GET /bucket/status`, cluster-wide from the database. */
@Injectable()
export class StatusService {
  private readonly staleAfterMs: number;

  constructor(
    private readonly bucket: BucketRepository,
    private readonly chain: ChainRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.staleAfterMs = config.heartbeatIntervalSeconds * config.staleAfterMissedHeartbeats * 1000;
  }

  async status(now = new Date()): Promise<BucketStatus> {
    const [rows, head] = await Promise.all([this.bucket.moduleStats(), this.chain.head()]);
    const modules = rows.map((row) => this.toModuleStatus(row, now));
    return {
      totals: {
        updates: modules.reduce((sum, m) => sum + m.updates, 0),
        heartbeats: modules.reduce((sum, m) => sum + m.heartbeats, 0),
      },
      chain: { length: head.length, head_hash: head.hash },
      heartbeat_interval_seconds: this.config.heartbeatIntervalSeconds,
      stale_after_seconds: this.staleAfterMs / 1000,
      modules,
    };
  }

  /** Alive while a heartbeat arrived within the allowed number of missed intervals. */
  stateOf(lastHeartbeatAt: Date | null, now: Date): ModuleState {
    if (!lastHeartbeatAt) return 'unknown';
    return now.getTime() - lastHeartbeatAt.getTime() <= this.staleAfterMs ? 'alive' : 'stale';
  }

  private toModuleStatus(row: ModuleStatsRow, now: Date): ModuleStatus {
    return {
      module: row.module,
      updates: row.updates,
      heartbeats: row.heartbeats,
      last_update: row.lastUpdateAt?.toISOString() ?? null,
      last_heartbeat: row.lastHeartbeatAt?.toISOString() ?? null,
      last_heartbeat_status: row.lastStatus,
      last_node: row.lastNode,
      state: this.stateOf(row.lastHeartbeatAt, now),
    };
  }
}
