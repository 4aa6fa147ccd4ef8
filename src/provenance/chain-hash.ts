import { createHash } from 'node:crypto';
import type { EventKind } from '../common/event-kinds.js';

/** The `previous_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

export type ChainEventType = EventKind;

/** The hashed part of an entry; `canonicalPayload` is the JCS text of the signed payload. */
export interface ChainEventContent {
  type: ChainEventType;
  module: string;
  canonicalPayload: string;
  signature: string;
}

/**
 * JCS of `{"type","module","payload","signature"}`. Composed from the already canonical payload
 * so a payload is never canonicalized twice; JCS sorts these four keys as written here and
 * serializes strings exactly as `JSON.stringify` does (RFC 8785 §3.2.2.2). Appends compute the
 * same in PostgreSQL (`chain_event_text`, `chain_hash`); test/ingest-function.int-spec.ts holds
 * both to the vectors.
 */
export function canonicalEvent(event: ChainEventContent): string {
  return (
    `{"module":${JSON.stringify(event.module)},"payload":${event.canonicalPayload},` +
    `"signature":${JSON.stringify(event.signature)},"type":${JSON.stringify(event.type)}}`
  );
}

/** SPEC §5: `sha256_hex(previous_hash + JCS(event) + timestamp)` over UTF-8. */
export function chainHash(
  previousHash: string,
  event: ChainEventContent,
  timestamp: string,
): string {
  return createHash('sha256')
    .update(previousHash)
    .update(canonicalEvent(event))
    .update(timestamp)
    .digest('hex');
}
