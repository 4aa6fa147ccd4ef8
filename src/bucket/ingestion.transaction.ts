import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChainRepository } from '../provenance/chain.repository.js';
import { NonceRepository } from '../security/nonce.repository.js';
import { BucketRepository } from './bucket.repository.js';
import type { AcceptedEvent, IncomingEvent, IngestionOutcome } from './ingestion.types.js';

/**
 * The one transaction of SPEC §4 step 8: for a batch of events, burn the nonces, append the chain
 * entries and store the bucket rows, all or nothing. A request is acknowledged only after COMMIT,
 * so an acknowledged event survives any crash, and a failed one leaves no trace to block a retry.
 */
@Injectable()
export class IngestionTransaction {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nonces: NonceRepository,
    private readonly chain: ChainRepository,
    private readonly bucket: BucketRepository,
  ) {}

  /** Outcomes in the order of `events`; throws (nothing stored) when the database fails. */
  async commit(events: IncomingEvent[]): Promise<IngestionOutcome[]> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      // Explicit: the chain append relies on each statement seeing the latest commits.
      await runner.startTransaction('READ COMMITTED');
      // Nonces are claimed before the chain lock is taken, so a batch prepares while another
      // holds the lock. Claims lock nonce rows in sorted order and nothing waits for a nonce row
      // while holding the chain lock, so racing batches queue up and never deadlock.
      const claimed = await this.nonces.claim(runner, events);
      const fresh = events.filter((event) => claimed.delete(event.nonce));
      const entries = await this.chain.append(runner, fresh);
      const accepted: AcceptedEvent[] = fresh.map((event, index) => ({
        event,
        entry: entries[index],
      }));
      await this.bucket.record(runner, accepted);
      await runner.commitTransaction();

      const entryOf = new Map(accepted.map(({ event, entry }) => [event, entry]));
      return events.map((event) => {
        const entry = entryOf.get(event);
        return entry ? { accepted: entry } : { replayed: true };
      });
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}
