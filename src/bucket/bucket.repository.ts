import { Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import type { AcceptedEvent } from './ingestion.types.js';

export interface ModuleStatsRow {
  module: string;
  updates: number;
  heartbeats: number;
  lastUpdateAt: Date | null;
  lastHeartbeatAt: Date | null;
  lastStatus: string | null;
  lastNode: string | null;
}

interface StatsDelta {
  updates: number;
  heartbeats: number;
  lastUpdateAt: string | null;
  lastHeartbeatAt: string | null;
  lastStatus: string | null;
  lastNode: string | null;
}

/** The Bucket: stored updates and heartbeats, and per-module totals kept in step with them. */
@Injectable()
export class BucketRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores accepted events and adds them to the per-module totals inside the caller's
   * transaction (after their chain entries), in one statement. One upsert row per module and
   * batch; the chain lock already serializes writers, so the totals see no row contention.
   */
  async record(runner: QueryRunner, events: AcceptedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const stats = statsDeltas(events);
    await runner.query(
      `WITH stored AS (
         INSERT INTO bucket_events (sequence, type, module, node, status, data, signed_at, received_at)
         SELECT s, t, m, n, st, d::json, sa, ra
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
           AS batch(s, t, m, n, st, d, sa, ra)
       )
       INSERT INTO module_stats AS s (module, updates, heartbeats, last_update_at, last_heartbeat_at, last_status, last_node)
       SELECT * FROM unnest($9::text[], $10::bigint[], $11::bigint[], $12::timestamptz[], $13::timestamptz[], $14::text[], $15::text[])
       ON CONFLICT (module) DO UPDATE SET
         updates = s.updates + EXCLUDED.updates,
         heartbeats = s.heartbeats + EXCLUDED.heartbeats,
         last_update_at = COALESCE(EXCLUDED.last_update_at, s.last_update_at),
         last_heartbeat_at = COALESCE(EXCLUDED.last_heartbeat_at, s.last_heartbeat_at),
         last_status = COALESCE(EXCLUDED.last_status, s.last_status),
         last_node = COALESCE(EXCLUDED.last_node, s.last_node)`,
      [
        events.map((e) => e.entry.sequence),
        events.map((e) => e.entry.type),
        events.map((e) => e.entry.module),
        events.map((e) => e.event.node ?? null),
        events.map((e) => e.event.status ?? null),
        events.map((e) => (e.event.data === undefined ? null : JSON.stringify(e.event.data))),
        events.map((e) => e.event.signedAt),
        events.map((e) => e.entry.timestamp),
        [...stats.keys()],
        ...(
          [
            'updates',
            'heartbeats',
            'lastUpdateAt',
            'lastHeartbeatAt',
            'lastStatus',
            'lastNode',
          ] as const
        ).map((field) => [...stats.values()].map((delta) => delta[field])),
      ],
    );
  }

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

/** Per-module increments and latest values of a batch, in chain order. */
function statsDeltas(events: AcceptedEvent[]): Map<string, StatsDelta> {
  const deltas = new Map<string, StatsDelta>();
  for (const { entry, event } of events) {
    const delta = deltas.get(entry.module) ?? {
      updates: 0,
      heartbeats: 0,
      lastUpdateAt: null,
      lastHeartbeatAt: null,
      lastStatus: null,
      lastNode: null,
    };
    if (entry.type === 'update') {
      delta.updates += 1;
      delta.lastUpdateAt = entry.timestamp;
    } else {
      delta.heartbeats += 1;
      delta.lastHeartbeatAt = entry.timestamp;
      delta.lastStatus = event.status ?? null;
      delta.lastNode = event.node ?? delta.lastNode;
    }
    deltas.set(entry.module, delta);
  }
  return deltas;
}
