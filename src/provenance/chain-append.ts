import type { StoredChainEntry } from './chain-entry.js';
import type { ChainEventType } from './chain-hash.js';

/**
 * A verified, fresh event to append. Named fields, so that swapping a payload and a signature
 * no longer type-checks as it did with positional arrays.
 */
export interface PendingEvent {
  type: ChainEventType;
  module: string;
  nonce: string;
  /** When the nonce's row may be pruned (`NonceRepository.expiresAt`). */
  nonceExpiresAt: Date;
  signedAt: Date;
  /** The JCS text of the signed payload, stored and hashed byte for byte. */
  canonicalPayload: string;
  signature: string;
  /** Heartbeat status and node. */
  status?: string;
  node?: string;
}

/** The outcome of one event of an appended batch, in the batch's order. */
export type AppendOutcome = { accepted: StoredChainEntry } | { replayed: true };

/** A row of `ingest_events`: one per accepted event. */
export interface AppendedRow {
  event_index: number;
  sequence: string;
  entry_timestamp: string;
  previous_hash: string;
  hash: string;
}

/** Sends one statement and resolves its rows: TypeORM's `DataSource.query` or a bare `pg` pool. */
export type RunQuery = (sql: string, parameters: unknown[]) => Promise<AppendedRow[]>;

/**
 * Appends `events` by one call of `ingest_events` (src/provenance/ingest-events.sql), which claims
 * the nonces, appends the chain entries and stores the bucket rows in its own transaction. Shared
 * by `ChainRepository.appendBatch` and the benchmark's baseline, so both send the same statement.
 */
export async function appendBatchVia(
  query: RunQuery,
  events: readonly PendingEvent[],
): Promise<AppendOutcome[]> {
  const rows = await query('SELECT * FROM ingest_events($1::jsonb)', [
    JSON.stringify(events.map(toArgument)),
  ]);
  const outcomes: AppendOutcome[] = events.map(() => ({ replayed: true }));
  for (const row of rows) {
    const event = events[row.event_index - 1];
    outcomes[row.event_index - 1] = {
      accepted: {
        type: event.type,
        module: event.module,
        canonicalPayload: event.canonicalPayload,
        signature: event.signature,
        sequence: Number(row.sequence),
        timestamp: row.entry_timestamp,
        previousHash: row.previous_hash,
        hash: row.hash,
      },
    };
  }
  return outcomes;
}

/** One element of the function's argument; the keys are the columns its `jsonb_to_recordset` reads. */
function toArgument(event: PendingEvent) {
  return {
    type: event.type,
    module: event.module,
    nonce: event.nonce,
    expires_at: event.nonceExpiresAt,
    payload: event.canonicalPayload,
    signature: event.signature,
    signed_at: event.signedAt,
    node: event.node ?? null,
    status: event.status ?? null,
  };
}
