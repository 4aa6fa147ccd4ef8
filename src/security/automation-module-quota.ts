import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AUTOMATION_MODULE_PREFIX } from '../client/bridge-wire.js';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * Caps how many distinct `automation-…` modules automation-only tokens can make the Bucket hold
 * (`AUTOMATION_MODULES_MAX`): a name already stored is always allowed, a new one only while fewer
 * exist. Names seen allowed are remembered (up to the cap), so an automation node's regular
 * heartbeat costs one query per replica lifetime. Concurrent first heartbeats of new names on
 * several replicas may pass the cap by a few; it bounds, it does not count exactly.
 */
@Injectable()
export class AutomationModuleQuota {
  private readonly allowed = new Set<string>();
  private readonly max: number;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.max = config.automationModulesMax;
  }

  async assertMayUse(module: string): Promise<void> {
    if (this.allowed.has(module)) return;
    if (!(await this.isStoredOrBelowCap(module))) {
      throw new Rejection(
        'module_mismatch',
        `The bucket already holds AUTOMATION_MODULES_MAX (${this.max}) automation modules`,
        module,
      );
    }
    if (this.allowed.size < this.max) this.allowed.add(module);
  }

  private async isStoredOrBelowCap(module: string): Promise<boolean> {
    const [row]: Array<{ allowed: boolean }> = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM module_stats WHERE module = $1)
           OR (SELECT count(*) FROM (SELECT 1 FROM module_stats
                                     WHERE starts_with(module, $2) LIMIT $3) AS existing) < $3
           AS allowed`,
      [module, AUTOMATION_MODULE_PREFIX, this.max],
    );
    return row.allowed;
  }
}
