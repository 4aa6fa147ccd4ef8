import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface RejectionRecord {
  occurredAt: Date;
  nodeId: string;
  reason: string;
  module: string | undefined;
  method: string;
  path: string;
  clientAddress?: string;
  message: string;
  /** How many alike rejections this record stands for (SecurityAudit aggregates repeats). */
  count: number;
}

export interface RejectionCounts {
  total: number;
  byReason: Record<string, number>;
  last: { at: string; reason: string; message: string } | null;
}

/** The cluster-wide security log and its counters (SPEC §4, §6). */
@Injectable()
export class SecurityEventRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores a batch of rejections and adds them to the per-reason counters, in one transaction. */
  async append(records: RejectionRecord[]): Promise<void> {
    if (records.length === 0) return;
    const counters = new Map<string, { count: number; lastAt: Date; lastMessage: string }>();
    for (const record of records) {
      const counter = counters.get(record.reason) ?? {
        count: 0,
        lastAt: record.occurredAt,
        lastMessage: record.message,
      };
      counter.count += record.count;
      if (record.occurredAt >= counter.lastAt) {
        counter.lastAt = record.occurredAt;
        counter.lastMessage = record.message;
      }
      counters.set(record.reason, counter);
    }
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO security_rejections (occurred_at, node_id, reason, module, method, path, message, client_address, count)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[])`,
        [
          records.map((r) => r.occurredAt),
          records.map((r) => r.nodeId),
          records.map((r) => r.reason),
          records.map((r) => r.module ?? null),
          records.map((r) => r.method),
          records.map((r) => r.path),
          records.map((r) => r.message),
          records.map((r) => r.clientAddress ?? null),
          records.map((r) => r.count),
        ],
      );
      const reasons = [...counters.keys()].sort(); // one lock order across replicas
      await manager.query(
        `INSERT INTO security_counters AS c (reason, count, last_at, last_message)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[])
         ON CONFLICT (reason) DO UPDATE SET
           count = c.count + EXCLUDED.count,
           last_at = GREATEST(c.last_at, EXCLUDED.last_at),
           last_message = CASE WHEN EXCLUDED.last_at >= c.last_at THEN EXCLUDED.last_message ELSE c.last_message END`,
        [
          reasons,
          reasons.map((r) => counters.get(r)!.count),
          reasons.map((r) => counters.get(r)!.lastAt),
          reasons.map((r) => counters.get(r)!.lastMessage),
        ],
      );
    });
  }

  /** Deletes the rows of rejections before `cutoff`; the counters keep counting them. */
  async deleteOccurredBefore(cutoff: Date): Promise<number> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(
      'DELETE FROM security_rejections WHERE occurred_at < $1',
      [cutoff],
    );
    return deleted;
  }

  async counts(): Promise<RejectionCounts> {
    const rows: Array<{ reason: string; count: string; last_at: Date; last_message: string }> =
      await this.dataSource.query(
        'SELECT reason, count, last_at, last_message FROM security_counters',
      );
    const byReason: Record<string, number> = {};
    let last: RejectionCounts['last'] = null;
    for (const row of rows) {
      byReason[row.reason] = Number(row.count);
      if (!last || row.last_at.toISOString() > last.at) {
        last = { at: row.last_at.toISOString(), reason: row.reason, message: row.last_message };
      }
    }
    return { total: Object.values(byReason).reduce((sum, n) => sum + n, 0), byReason, last };
  }
}
