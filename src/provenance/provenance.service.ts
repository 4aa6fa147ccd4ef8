import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { ChainRepository } from './chain.repository.js';
import { toExportLine, type StoredChainEntry } from './chain-entry.js';
import { ChainVerification, type ChainVerdict } from './chain-verifier.js';

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

/** Entries hashed between two turns of the event loop during a verify walk (~2 ms of hashing). */
const ENTRIES_PER_TURN = 200;

@Injectable()
export class ProvenanceService {
  /** The walk in progress on this replica, if any. */
  private walk: Promise<ChainVerdict> | undefined;

  constructor(private readonly chain: ChainRepository) {}

  /**
   * At most one walk per replica: a caller arriving while one runs gets that walk's verdict (its
   * `length` says how much of the chain it covered), so ten concurrent calls cost one walk, not ten.
   */
  verify(): Promise<ChainVerdict> {
    this.walk ??= this.walkChain().finally(() => (this.walk = undefined));
    return this.walk;
  }

  /**
   * Pages come on pooled connections held only while each query runs (`ChainRepository.pages`);
   * the hashing yields to the event loop every `ENTRIES_PER_TURN` entries, so ingestion requests
   * are served while a long chain is checked.
   */
  private async walkChain(): Promise<ChainVerdict> {
    const verification = new ChainVerification();
    for await (const page of this.chain.pages(1)) {
      for (let start = 0; start < page.length; start += ENTRIES_PER_TURN) {
        for (const entry of page.slice(start, start + ENTRIES_PER_TURN)) verification.add(entry);
        await setImmediate();
      }
    }
    const verdict = verification.verdict();
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
