import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { ChainRepository } from './chain.repository.js';
import { toExportLine, type StoredChainEntry } from './chain-entry.js';
import { verifyChain, type ChainVerdict } from './chain-verifier.js';

/** An entry as the API and the export present it (SPEC §5). */
export interface ChainEntryView {
  sequence: number;
  timestamp: string;
  type: string;
  module: string;
  payload: unknown;
  signature: string;
  previous_hash: string;
  hash: string;
}

@Injectable()
export class ProvenanceService {
  constructor(private readonly chain: ChainRepository) {}

  async verify(): Promise<ChainVerdict> {
    const verdict = await verifyChain(this.chain.streamFrom(1));
    if (verdict.valid) return verdict;
    const { detail: _detail, ...publicVerdict } = verdict;
    return publicVerdict as ChainVerdict;
  }

  async entry(sequence: number): Promise<ChainEntryView | undefined> {
    const entry = await this.chain.findBySequence(sequence);
    return entry && toView(entry);
  }

  /** NDJSON lines from `fromSequence` on, pulled from the database as the client reads. */
  /**
   * The first page is read before the stream is handed over, so that an unreachable database is
   * answered 503 like on every route; a failure later can only cut the stream short.
   */
  async exportFrom(fromSequence: number): Promise<Readable> {
    const entries = this.chain.streamFrom(fromSequence);
    const first = await entries.next();
    return Readable.from(
      (async function* () {
        for (let next = first; !next.done; next = await entries.next())
          yield `${toExportLine(next.value)}\n`;
      })(),
    );
  }
}

function toView(entry: StoredChainEntry): ChainEntryView {
  return {
    sequence: entry.sequence,
    timestamp: entry.timestamp,
    type: entry.type,
    module: entry.module,
    payload: JSON.parse(entry.canonicalPayload),
    signature: entry.signature,
    previous_hash: entry.previousHash,
    hash: entry.hash,
  };
}
