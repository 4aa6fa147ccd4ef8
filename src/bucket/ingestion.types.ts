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
  /** Heartbeat status and node. */
  status?: string;
  node?: string;
}

/** The outcome of one event of a committed batch. */
export type IngestionOutcome = { accepted: StoredChainEntry } | { replayed: true };
