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

/**
 * The Bucket: stored updates and heartbeats, and per-module totals kept in step with them. Rows are
 * written by the ingestion transaction (`ingest_events`), in the same commit as their chain entries.
 */
@Injectable()
export class BucketRepository {
  constructor(private readonly dataSource: DataSource) {}

  async moduleStats(): Promise<ModuleStatsRow[]> {
    const rows: Array<Record<string, string | Date | null>> = await this.dataSource.query(
      `SELECT module, updates, heartbeats, last_update_at, last_heartbeat_at, last_status, last_node
       FROM module_stats ORDER BY module`,
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
}
