import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Rejection } from '../common/rejection.js';
import type { StoredChainEntry } from '../provenance/chain-entry.js';
import type { AppendOutcome } from '../provenance/chain-append.js';
import { ChainRepository } from '../provenance/chain.repository.js';
import { NonceRepository } from '../security/nonce.repository.js';
import type { IncomingEvent } from './ingestion.types.js';

/** Upper bound of events per transaction; keeps one commit's latency and statement size modest. */
const MAX_BATCH = 256;
/**
 * Transactions this instance runs at once. Appends serialize on the chain lock, and a transaction
 * is one statement that never waits on this process, so a second one would only wait for the lock
 * inside PostgreSQL; with one, batches grow instead, and PostgreSQL spent less CPU per event.
 */
const MAX_IN_FLIGHT = 1;

interface Waiting {
  event: IncomingEvent;
  resolve(entry: StoredChainEntry): void;
  reject(error: unknown): void;
}

/**
 * Group commit. Appends are serialized by the chain lock anyway, so every request that arrives
 * while a transaction runs joins the next one: one COMMIT (and one fsync) acknowledges many
 * requests, with the contract unchanged.
 */
@Injectable()
export class IngestionQueue implements OnApplicationShutdown {
  private readonly logger = new Logger(IngestionQueue.name);
  private waiting: Waiting[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly chain: ChainRepository,
    private readonly nonces: NonceRepository,
  ) {}

  /** Resolves with the chain entry once committed; rejects with a `Rejection` otherwise. */
  submit(event: IncomingEvent): Promise<StoredChainEntry> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ event, resolve, reject });
      this.startBatches();
    });
  }

  /** Everything already submitted is committed (or failed) before the database closes. */
  async onApplicationShutdown(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private startBatches(): void {
    while (this.waiting.length > 0 && this.inFlight.size < MAX_IN_FLIGHT) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      const run = this.commit(batch).finally(() => {
        this.inFlight.delete(run);
        this.startBatches();
      });
      this.inFlight.add(run);
    }
  }

  private async commit(batch: Waiting[]): Promise<void> {
    let outcomes: AppendOutcome[];
    try {
      outcomes = await this.chain.appendBatch(
        batch.map(({ event }) => ({
          ...event,
          nonceExpiresAt: this.nonces.expiresAt(event.signedAt),
        })),
      );
    } catch (error) {
      if (isRefusedData(error)) return this.withoutRefused(batch, error);
      this.logger.error(`ingestion transaction failed: ${(error as Error).message}`);
      const unavailable = new Rejection(
        'store_unavailable',
        'The store is unavailable; retry the request later',
      );
      batch.forEach((waiting) => waiting.reject(unavailable));
      return;
    }
    outcomes.forEach((outcome, index) => {
      const { resolve, reject, event } = batch[index];
      if ('accepted' in outcome) resolve(outcome.accepted);
      else reject(new Rejection('replay_detected', 'This nonce was already used', event.module));
    });
  }

  /**
   * The database refused data in the batch (which rolled back whole). Halves are committed in
   * order until the event it refuses stands alone and is rejected, so one poisoned event costs
   * the others a few more transactions (about 2·log₂ of the batch), not their acceptance.
   */
  private async withoutRefused(batch: Waiting[], error: unknown): Promise<void> {
    if (batch.length > 1) {
      const middle = Math.ceil(batch.length / 2);
      await this.commit(batch.slice(0, middle));
      await this.commit(batch.slice(middle));
      return;
    }
    const [{ event, reject }] = batch;
    this.logger.warn(`the store refused an event of ${event.module}: ${(error as Error).message}`);
    reject(new Rejection('malformed_request', 'The store cannot hold this payload', event.module));
  }
}

/**
 * PostgreSQL refused a value rather than failed: SQLSTATE class 22 (data exception, such as an
 * escape jsonb cannot hold) or 54 (a program limit, such as a too large value). Such an error is
 * tied to an event of the batch; any other (connection lost, shutdown, …) is the store's.
 */
function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('54'));
}
