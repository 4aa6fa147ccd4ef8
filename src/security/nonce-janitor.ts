import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { NonceRepository } from './nonce.repository.js';

const PRUNE_INTERVAL_MS = 60_000;

/** Deletes nonces that can no longer pass the freshness check. Safe to run on every replica. */
@Injectable()
export class NonceJanitor {
  private readonly logger = new Logger(NonceJanitor.name);

  constructor(private readonly nonces: NonceRepository) {}

  @Interval(PRUNE_INTERVAL_MS)
  async prune(): Promise<void> {
    try {
      const deleted = await this.nonces.pruneExpired();
      if (deleted > 0) this.logger.debug(`pruned ${deleted} expired nonces`);
    } catch (error) {
      this.logger.warn(`nonce pruning failed: ${(error as Error).message}`);
    }
  }
}
