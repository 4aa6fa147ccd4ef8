import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type QueryRunner } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';

/** Extra life for a nonce past the skew window, to absorb clock differences between replicas. */
const NONCE_RETENTION_MARGIN_MS = 60_000;

export interface NonceClaim {
  nonce: string;
  module: string;
  signedAt: Date;
}

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
   * Inserts the nonces inside the caller's transaction, in sorted order so concurrent claims lock
   * rows in one order; returns those that were not taken yet.
   */
  async claim(runner: QueryRunner, claims: NonceClaim[]): Promise<Set<string>> {
    const rows: Array<{ nonce: string }> = await runner.query(
      `INSERT INTO nonces (nonce, module, expires_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[]) ORDER BY 1
       ON CONFLICT (nonce) DO NOTHING RETURNING nonce`,
      [
        claims.map((c) => c.nonce),
        claims.map((c) => c.module),
        claims.map((c) => new Date(c.signedAt.getTime() + this.lifetimeMs)),
      ],
    );
    return new Set(rows.map((row) => row.nonce));
  }

  /** Deletes nonces whose timestamps can no longer pass the freshness check. */
  async pruneExpired(): Promise<number> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(
      'DELETE FROM nonces WHERE expires_at < now()',
    );
    return deleted;
  }

  async count(): Promise<number> {
    const rows: Array<{ count: string }> = await this.dataSource.query(
      'SELECT count(*) AS count FROM nonces',
    );
    return Number(rows[0].count);
  }
}
