import type { ChainEventType } from './chain-hash.js';

/** A chain entry as stored, with the payload as its canonical JSON text. */
export interface StoredChainEntry {
  sequence: number;
  timestamp: string;
  type: ChainEventType;
  module: string;
  canonicalPayload: string;
  signature: string;
  previousHash: string;
  hash: string;
}

/**
 * One line of the export (SPEC §5, the seed's `provenance_chain.jsonl`), keys in the documented
 * order. The payload text is already valid canonical JSON, so it is inlined, not re-serialized.
 */
export function toExportLine(entry: StoredChainEntry): string {
  return (
    `{"sequence":${entry.sequence},"timestamp":${JSON.stringify(entry.timestamp)},` +
    `"type":${JSON.stringify(entry.type)},"module":${JSON.stringify(entry.module)},` +
    `"payload":${entry.canonicalPayload},"signature":${JSON.stringify(entry.signature)},` +
    `"previous_hash":"${entry.previousHash}","hash":"${entry.hash}"}`
  );
}
