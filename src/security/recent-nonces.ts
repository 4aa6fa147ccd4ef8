import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';

/**
 * A bounded in-memory set of nonces this instance recently committed. It only answers obvious
 * replays early; the security bound is the nonce table's primary key, claimed in the store
 * transaction, which holds across restarts and replicas however many requests came in between.
 */
@Injectable()
export class RecentNonces {
  private readonly seen = new Set<string>();
  private readonly capacity: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.capacity = config.nonceCacheSize;
  }

  has(nonce: string): boolean {
    return this.seen.has(nonce);
  }

  /** Remember only committed nonces, so a request that failed with 5xx may be retried. */
  remember(nonce: string): void {
    if (this.capacity === 0) return;
    this.seen.add(nonce);
    if (this.seen.size > this.capacity) {
      // A Set iterates in insertion order: the first value is the oldest.
      this.seen.delete(this.seen.values().next().value as string);
    }
  }
}
