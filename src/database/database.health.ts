import { Injectable, Logger } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { migrationsAreApplied } from './migrate.js';

/** Below the 3 s probe timeout docs/operating.md suggests, so a slow database reads as "down", not as a hung probe. */
const DATABASE_CHECK_TIMEOUT_MS = 2000;

/**
 * Readiness of the database (SPEC §6): it answers a ping in time, and every migration this build
 * knows is applied. Probe bodies are public, so they say what failed; the driver's error, which
 * may name hosts, goes to the log only.
 */
@Injectable()
export class DatabaseHealthIndicator {
  private readonly logger = new Logger(DatabaseHealthIndicator.name);

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
  ) {}

  isReachable(key: string) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        await this.explained('did not answer a ping', () => this.dataSource.query('SELECT 1'));
      })
      .withTimeout(DATABASE_CHECK_TIMEOUT_MS);
  }

  migrationsApplied(key: string) {
    return this.indicators
      .check(key)
      .attempt(async () => {
        const applied = await this.explained('could not be asked for applied migrations', () =>
          migrationsAreApplied(this.dataSource),
        );
        if (!applied) throw new Error('migrations are pending');
      })
      .withTimeout(DATABASE_CHECK_TIMEOUT_MS);
  }

  private async explained<T>(failure: string, query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      this.logger.warn(`database health check: ${failure}: ${(error as Error).message}`);
      throw new Error(`database ${failure}`);
    }
  }
}
