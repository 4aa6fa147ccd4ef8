import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { Rejection } from '../common/rejection.js';
import { ChainRepository } from '../provenance/chain.repository.js';
import {
  NAME_PATTERN,
  type BucketStatus,
  type ModuleState,
  type ModuleStatus,
  type ModuleSummary,
} from '../client/bridge-wire.js';
import { BucketRepository, type ModulePage, type ModuleStatsRow } from './bucket.repository.js';

/** Modules in one `GET /bucket/status` answer unless `limit` says otherwise. */
export const STATUS_PAGE_DEFAULT = 100;
export const STATUS_PAGE_MAX = 1000;

/** The query of `GET /bucket/status`, as Express parsed it (a repeated parameter is an array). */
export interface StatusQuery {
  limit?: unknown;
  after?: unknown;
  module?: unknown;
}

/** Every module by state plus the totals, each a count over the whole table. */
export interface BucketSummary {
  totals: BucketStatus['totals'];
  summary: ModuleSummary;
}

/** SPEC §6 `GET /bucket/status`, cluster-wide from the database, one page of modules at a time. */
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

  async status(query: StatusQuery = {}, now = new Date()): Promise<BucketStatus> {
    const page = modulePageOf(query);
    const [rows, summary, head] = await Promise.all([
      // One more than asked for tells whether a next page exists.
      this.bucket.moduleStats({ ...page, limit: page.limit + 1 }),
      this.summary(now),
      this.chain.head(),
    ]);
    const modules = rows.slice(0, page.limit).map((row) => this.toModuleStatus(row, now));
    return {
      totals: summary.totals,
      chain: { length: head.length, head_hash: head.hash },
      heartbeat_interval_seconds: this.config.heartbeatIntervalSeconds,
      stale_after_seconds: this.staleAfterMs / 1000,
      summary: summary.summary,
      modules,
      next_after: rows.length > page.limit ? modules[modules.length - 1].module : null,
    };
  }

  async summary(now = new Date()): Promise<BucketSummary> {
    const counts = await this.bucket.summary(this.aliveSince(now));
    return {
      totals: { updates: counts.updates, heartbeats: counts.heartbeats },
      summary: {
        modules: counts.modules,
        alive: counts.aliveSince,
        stale: counts.modules - counts.aliveSince - counts.neverHeartbeat,
        unknown: counts.neverHeartbeat,
      },
    };
  }

  /** The first `limit` stale modules by name. */
  staleModules(limit: number, now = new Date()): Promise<string[]> {
    return this.bucket.modulesSilentSince(this.aliveSince(now), limit);
  }

  /** Alive while a heartbeat arrived within the allowed number of missed intervals. */
  private stateOf(lastHeartbeatAt: Date | null, now: Date): ModuleState {
    if (!lastHeartbeatAt) return 'unknown';
    return lastHeartbeatAt >= this.aliveSince(now) ? 'alive' : 'stale';
  }

  private aliveSince(now: Date): Date {
    return new Date(now.getTime() - this.staleAfterMs);
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

/** `limit` 1-1000 (default 100); `after` and `module` module names; anything else → 400. */
function modulePageOf(query: StatusQuery): ModulePage {
  const limit = query.limit === undefined ? STATUS_PAGE_DEFAULT : Number(query.limit);
  if (
    (query.limit !== undefined &&
      (typeof query.limit !== 'string' || !/^\d+$/.test(query.limit))) ||
    limit < 1 ||
    limit > STATUS_PAGE_MAX
  ) {
    throw new Rejection(
      'invalid_parameter',
      `limit must be a whole number from 1 to ${STATUS_PAGE_MAX}`,
    );
  }
  return {
    limit,
    after: moduleName(query.after, 'after'),
    module: moduleName(query.module, 'module'),
  };
}

function moduleName(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !NAME_PATTERN.test(value)) {
    throw new Rejection(
      'invalid_parameter',
      `${name} must be one module name (1-64 characters of A-Z a-z 0-9 . _ -)`,
    );
  }
  return value;
}
