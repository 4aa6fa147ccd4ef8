import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { StoredChainEntry } from '../provenance/chain-entry.js';
import { NonceRepository } from '../security/nonce.repository.js';
import type { IncomingEvent, IngestionOutcome } from './ingestion.types.js';

/** A row of `ingest_events`: one per accepted event. */
interface IngestedRow {
  event_index: number;
  sequence: string;
  entry_timestamp: string;
  previous_hash: string;
  hash: string;
}

/**
 * The one transaction of SPEC §4 step 8: for a batch of events, burn the nonces, append the chain
 * entries and store the bucket rows, all or nothing. It is a single call of the `ingest_events`
 * function (migration IngestFunction), which commits on its own, so the chain lock is never held
 * while this process is busy with HTTP work. A request is acknowledged only after the commit, so
 * an acknowledged event survives any crash, and a failed one leaves no trace to block a retry.
 */
@Injectable()
export class IngestionTransaction {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nonces: NonceRepository,
  ) {}

  /** Outcomes in the order of `events`; throws (nothing stored) when the database fails. */
  async commit(events: IncomingEvent[]): Promise<IngestionOutcome[]> {
    const rows: IngestedRow[] = await this.dataSource.query(
      'SELECT * FROM ingest_events($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      [
        events.map((event) => event.type),
        events.map((event) => event.module),
        events.map((event) => event.nonce),
        events.map((event) => this.nonces.expiresAt(event.signedAt)),
        events.map((event) => event.canonicalPayload),
        events.map((event) => event.signature),
        events.map((event) => event.signedAt),
        events.map((event) => event.node ?? null),
        events.map((event) => event.status ?? null),
      ],
    );
    const outcomes: IngestionOutcome[] = events.map(() => ({ replayed: true }));
    for (const row of rows) {
      const event = events[row.event_index - 1];
      const entry: StoredChainEntry = {
        type: event.type,
        module: event.module,
        canonicalPayload: event.canonicalPayload,
        signature: event.signature,
        sequence: Number(row.sequence),
        timestamp: row.entry_timestamp,
        previousHash: row.previous_hash,
        hash: row.hash,
      };
      outcomes[row.event_index - 1] = { accepted: entry };
    }
    return outcomes;
  }
}
