import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';

/** Extra life for a nonce past the skew window, to absorb clock differences between replicas. */
const NONCE_RETENTION_MARGIN_MS = 60_000;
/** Expired nonces one pruning statement deletes at most (about 20 ms of database time). */
const PRUNE_BATCH = 5_000;

/**
 * The security bound of replay protection: a nonce's primary key row lives until its signed
 * timestamp has left the freshness window everywhere, so it can be pruned safely after that.
 */
@Injectable()
export class NonceRepository {
  private readonly lifetimeMs: number;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.lifetimeMs = config.maxClockSkewSeconds * 1000 + NONCE_RETENTION_MARGIN_MS;
  }

  /**
   * When a nonce signed at `signedAt` may be pruned. The nonce itself is claimed by the ingestion
   * transaction (`ingest_events`), together with the chain entry it protects.
   */
  expiresAt(signedAt: Date): Date {
    return new Date(signedAt.getTime() + this.lifetimeMs);
  }

  /**
   * Deletes nonces whose timestamps can no longer pass the freshness check, in statements of at
   * most PRUNE_BATCH rows: a minute of appends at 2,000/s is 120,000 rows, which one statement
   * would delete in a burst of database time that ingestion waits behind.
   */
  async pruneExpired(): Promise<number> {
    let total = 0;
    for (;;) {
      const [, deleted]: [unknown, number] = await this.dataSource.query(
        `DELETE FROM nonces WHERE nonce IN
           (SELECT nonce FROM nonces WHERE expires_at < now() LIMIT ${PRUNE_BATCH})`,
      );
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }

  async count(): Promise<number> {
    const rows: Array<{ count: string }> = await this.dataSource.query(
      'SELECT count(*) AS count FROM nonces',
    );
    return Number(rows[0].count);
  }
}
