import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ReplicaRequestFigures } from './request-figures.adapter.js';

export interface SeriesPoint {
  /** Start of the bin, epoch seconds. */
  t: number;
  accepted: number;
  rejected: number;
}

export interface SecurityEventView {
  at: string;
  module: string | null;
  reason: string;
  node: string;
  method: string;
  path: string;
  message: string;
  client_address: string | null;
}

export interface ReplicaView {
  node: string;
  started_at: string;
  seen_at: string;
  figures: ReplicaRequestFigures;
}

/** The dashboard's aggregate reads, each a range scan on an index (SPEC §10). */
@Injectable()
export class InsightRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Accepted (bucket_events, BRIN on received_at) and rejected (security_rejections, B-tree on
   * occurred_at) per bin of `binSeconds` since `since`. Empty bins are absent.
   */
  async series(since: Date, binSeconds: number): Promise<SeriesPoint[]> {
    const rows: Array<{ t: string; accepted: string; rejected: string }> =
      await this.dataSource.query(
        `WITH accepted AS (
           SELECT date_bin(make_interval(secs => $2), received_at, 'epoch') AS bin, count(*) AS n
           FROM bucket_events WHERE received_at >= $1 GROUP BY 1),
         rejected AS (
           SELECT date_bin(make_interval(secs => $2), occurred_at, 'epoch') AS bin, sum(count) AS n
           FROM security_rejections WHERE occurred_at >= $1 GROUP BY 1)
         SELECT extract(epoch FROM bin)::bigint AS t,
                coalesce(a.n, 0) AS accepted, coalesce(r.n, 0) AS rejected
         FROM accepted a FULL JOIN rejected r USING (bin) ORDER BY 1`,
        [since, binSeconds],
      );
    return rows.map((row) => ({
      t: Number(row.t),
      accepted: Number(row.accepted),
      rejected: Number(row.rejected),
    }));
  }

  /** Events accepted since `since` (the "per second now" tile). */
  async acceptedSince(since: Date): Promise<number> {
    const [row]: Array<{ n: string }> = await this.dataSource.query(
      'SELECT count(*) AS n FROM bucket_events WHERE received_at >= $1',
      [since],
    );
    return Number(row.n);
  }

  /** The newest security events first, walking the occurred_at index backwards. */
  async latestEvents(limit: number): Promise<SecurityEventView[]> {
    const rows: Array<{
      occurred_at: Date;
      module: string | null;
      reason: string;
      node_id: string;
      method: string;
      path: string;
      message: string;
      client_address: string | null;
    }> = await this.dataSource.query(
      `SELECT occurred_at, module, reason, node_id, method, path, message, client_address
       FROM security_rejections ORDER BY occurred_at DESC, id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      at: row.occurred_at.toISOString(),
      module: row.module,
      reason: row.reason,
      node: row.node_id,
      method: row.method,
      path: row.path,
      message: row.message,
      client_address: row.client_address,
    }));
  }

  async beat(node: string, startedAt: Date, figures: ReplicaRequestFigures): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO insight_replicas (node, started_at, seen_at, figures) VALUES ($1, $2, now(), $3)
       ON CONFLICT (node) DO UPDATE SET started_at = EXCLUDED.started_at, seen_at = now(),
         figures = EXCLUDED.figures`,
      [node, startedAt, JSON.stringify(figures)],
    );
  }

  async replicasSeenSince(since: Date): Promise<ReplicaView[]> {
    const rows: Array<{
      node: string;
      started_at: Date;
      seen_at: Date;
      figures: ReplicaRequestFigures;
    }> = await this.dataSource.query(
      'SELECT node, started_at, seen_at, figures FROM insight_replicas WHERE seen_at >= $1 ORDER BY node',
      [since],
    );
    return rows.map((row) => ({
      node: row.node,
      started_at: row.started_at.toISOString(),
      seen_at: row.seen_at.toISOString(),
      figures: row.figures,
    }));
  }
}
