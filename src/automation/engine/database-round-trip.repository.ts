import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DatabaseProbe } from '../plugins/plugin.types.js';

/** Lets plugins inside the service time a direct database round trip. */
@Injectable()
export class DatabaseRoundTripRepository implements DatabaseProbe {
  constructor(private readonly dataSource: DataSource) {}

  async roundTripMs(): Promise<number> {
    const started = performance.now();
    await this.dataSource.query('SELECT 1');
    return performance.now() - started;
  }
}
