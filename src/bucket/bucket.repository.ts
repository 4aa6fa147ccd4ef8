import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface ModuleStatsRow {
  module: string;
  updates: number;
  heartbeats: number;
  lastUpdateAt: Date | null;
  lastHeartbeatAt: Date | null;
  lastStatus: string | null;
  lastNode: string | null;
}

/** Totals over every module, and how many heartbeat since `aliveSince` or never did. */
export interface ModuleStatsSummary {
  modules: number;
  updates: number;
  heartbeats: number;
  aliveSince: number;
  neverHeartbeat: number;
}

/** Which modules one page holds: by name after `after`, or the one named `module`. */
export interface ModulePage {
  limit: number;
  after?: string;
  module?: string;
}

/**
 * The Bucket: stored updates and heartbeats, and per-module totals kept in step with them. Rows are
 * written by the ingestion transaction (`ingest_events`), in the same commit as their chain entries.
 */
@Injectable()
export class BucketRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One page of modules in name order (keyset pagination on the primary key). */
  async moduleStats(page: ModulePage): Promise<ModuleStatsRow[]> {
    const [where, value] =
      page.module !== undefined ? ['module = $1', page.module] : ['module > $1', page.after ?? ''];
    const rows: Array<Record<string, string | Date | null>> = await this.dataSource.query(
      `SELECT module, updates, heartbeats, last_update_at, last_heartbeat_at, last_status, last_node
       FROM module_stats WHERE ${where} ORDER BY module LIMIT $2`,
      [value, page.limit],
    );
    return rows.map((row) => ({
      module: row.module as string,
      updates: Number(row.updates),
      heartbeats: Number(row.heartbeats),
      lastUpdateAt: row.last_update_at as Date | null,
      lastHeartbeatAt: row.last_heartbeat_at as Date | null,
      lastStatus: row.last_status as string | null,
      lastNode: row.last_node as string | null,
    }));
  }

  async summary(aliveSince: Date): Promise<ModuleStatsSummary> {
    const [row]: Array<Record<string, string>> = await this.dataSource.query(
      `SELECT count(*) AS modules, coalesce(sum(updates), 0) AS updates,
              coalesce(sum(heartbeats), 0) AS heartbeats,
              count(*) FILTER (WHERE last_heartbeat_at >= $1) AS alive_since,
              count(*) FILTER (WHERE last_heartbeat_at IS NULL) AS never_heartbeat
       FROM module_stats`,
      [aliveSince],
    );
    return {
      modules: Number(row.modules),
      updates: Number(row.updates),
      heartbeats: Number(row.heartbeats),
      aliveSince: Number(row.alive_since),
      neverHeartbeat: Number(row.never_heartbeat),
    };
  }

  /** The first `limit` modules by name whose last heartbeat is before `before`. */
  async modulesSilentSince(before: Date, limit: number): Promise<string[]> {
    const rows: Array<{ module: string }> = await this.dataSource.query(
      `SELECT module FROM module_stats WHERE last_heartbeat_at < $1 ORDER BY module LIMIT $2`,
      [before, limit],
    );
    return rows.map((row) => row.module);
  }
}
