import { Injectable } from '@nestjs/common';
import type { HealthIndicatorFunction } from '@nestjs/terminus';
import { DatabaseHealthIndicator } from '../database/database.health.js';
import { KeysHealthIndicator } from '../security/keys.health.js';
import { DrainHealthIndicator } from './drain.health.js';

/** The name of the database indicator, which the cluster-wide figures depend on. */
export const DATABASE_CHECK = 'database';

/** What must hold before this instance takes traffic (SPEC §6), composed from each feature. */
@Injectable()
export class ReadinessChecks {
  readonly indicators: HealthIndicatorFunction[];

  constructor(
    drain: DrainHealthIndicator,
    database: DatabaseHealthIndicator,
    keys: KeysHealthIndicator,
  ) {
    this.indicators = [
      () => drain.isServing('serving'),
      () => database.isReachable(DATABASE_CHECK),
      () => database.migrationsApplied('migrations'),
      () => keys.areLoaded('keys'),
    ];
  }
}
