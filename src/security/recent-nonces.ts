import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * A bounded in-memory set of nonces this instance recently committed. It only answers obvious
 * replays early; the security bound is the nonce table's primary key, claimed in the store
 * transaction, which holds across restarts and replicas however many requests came in between.
 */
@Injectable()
export class RecentNonces {
  /** Absent when `NONCE_CACHE_SIZE` is 0: lru-cache needs a bound of at least one. */
  private readonly seen: LRUCache<string, true> | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.seen =
      config.nonceCacheSize > 0 ? new LRUCache({ max: config.nonceCacheSize }) : undefined;
  }

  has(nonce: string): boolean {
    return this.seen?.has(nonce) ?? false;
  }

  /** Remember only committed nonces, so a request that failed with 5xx may be retried. */
  remember(nonce: string): void {
    this.seen?.set(nonce, true);
  }
}
