import type { JsonObject } from '../common/canonical-json.js';
import type { ChainEventType } from '../provenance/chain-hash.js';
import type { StoredChainEntry } from '../provenance/chain-entry.js';

/** A verified, fresh update or heartbeat waiting to be stored. */
export interface IncomingEvent {
  type: ChainEventType;
  module: string;
  nonce: string;
  signedAt: Date;
  canonicalPayload: string;
  signature: string;
  /** Update data. */
  data?: JsonObject;
  /** Heartbeat status and node. */
  status?: string;
  node?: string;
}

export interface AcceptedEvent {
  event: IncomingEvent;
  entry: StoredChainEntry;
}

/** The outcome of one event of a committed batch. */
export type IngestionOutcome = { accepted: StoredChainEntry } | { replayed: true };
