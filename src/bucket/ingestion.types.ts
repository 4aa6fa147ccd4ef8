import type { PendingEvent } from '../provenance/chain-append.js';

/** A verified, fresh update or heartbeat waiting to be stored; its nonce's expiry is added then. */
export type IncomingEvent = Omit<PendingEvent, 'nonceExpiresAt'>;
