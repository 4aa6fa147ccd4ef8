import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { appendBatchVia, type AppendOutcome, type PendingEvent } from './chain-append.js';
import { GENESIS_HASH } from './chain-hash.js';
import type { StoredChainEntry } from './chain-entry.js';

/**
 * Entries per keyset page when walking the chain. Larger pages buy little speed (the round trip
 * is already small next to hashing) but hold more rows that outlive young-generation GC.
 */
const PAGE_SIZE = 2000;

export interface ChainHead {
  length: number;
  hash: string;
}

interface ChainRow {
  sequence: string;
  entry_timestamp: string;
  type: StoredChainEntry['type'];
  module: string;
  payload: string;
  signature: string;
  previous_hash: string;
  hash: string;
}

const SELECT_HEAD = 'SELECT sequence, hash FROM chain_entries ORDER BY sequence DESC LIMIT 1';

interface HeadRow {
  sequence: string;
  hash: string;
}

function toHead(rows: HeadRow[]): ChainHead {
  return rows.length > 0
    ? { length: Number(rows[0].sequence), hash: rows[0].hash }
    : { length: 0, hash: GENESIS_HASH };
}

const SELECT_ENTRY = `SELECT sequence, entry_timestamp, type, module, payload::text AS payload, signature,
  previous_hash, hash FROM chain_entries`;

/** A row of `SELECT_ENTRY` in array form, in its column order. */
type ChainRowValues = [
  sequence: string,
  entry_timestamp: string,
  type: StoredChainEntry['type'],
  module: string,
  payload: string,
  signature: string,
  previous_hash: string,
  hash: string,
];

@Injectable()
export class ChainRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * SPEC §4 step 8 for a batch: claims the nonces, appends the chain entries and stores the bucket
   * rows, all or nothing, in one statement that commits on its own, so the chain lock is never held
   * while this process is busy with HTTP work. Outcomes come in the order of `events`; it throws
   * (nothing stored) when the database fails. Callers acknowledge an event only once this resolves,
   * so an acknowledged event survives any crash, and a failed batch leaves no nonce to block a retry.
   */
  appendBatch(events: readonly PendingEvent[]): Promise<AppendOutcome[]> {
    return appendBatchVia((sql, parameters) => this.dataSource.query(sql, parameters), events);
  }

  /** The committed head, read outside any append. */
  async head(): Promise<ChainHead> {
    return toHead(await this.dataSource.query(SELECT_HEAD));
  }

  async findBySequence(sequence: number): Promise<StoredChainEntry | undefined> {
    const rows: ChainRow[] = await this.dataSource.query(`${SELECT_ENTRY} WHERE sequence = $1`, [
      sequence,
    ]);
    return rows.length > 0 ? toEntry(rows[0]) : undefined;
  }

  /** Entries from `fromSequence` on, read page by page (keyset), so memory stays bounded. */
  async *streamFrom(fromSequence = 1): AsyncGenerator<StoredChainEntry> {
    for await (const page of this.pages(fromSequence)) yield* page;
  }

  /**
   * Entries from `fromSequence` on in pages of consecutive rows (keyset pagination). The next page
   * is requested before the current one is handed out, so PostgreSQL produces it while the caller
   * hashes or writes; at most two pages are held. Rows come from the driver in array form, which
   * spares building a keyed object per row: this walk is what `chain:verify` spends its time on.
   */
  async *pages(
    fromSequence = 1,
    { toSequence = Number.MAX_SAFE_INTEGER }: { toSequence?: number } = {},
  ): AsyncGenerator<StoredChainEntry[]> {
    let pending: Promise<ChainRowValues[]> | undefined = this.fetchPage(fromSequence, toSequence);
    while (pending) {
      const rows: ChainRowValues[] = await pending;
      pending =
        rows.length === PAGE_SIZE
          ? this.fetchPage(Number(rows[rows.length - 1][0]) + 1, toSequence)
          : undefined;
      if (rows.length > 0) yield rows.map(entryFromValues);
    }
  }

  /**
   * One page, on a pooled connection held only while the query runs: a slow export reader never
   * pins a connection that ingestion needs.
   */
  private fetchPage(from: number, to: number): Promise<ChainRowValues[]> {
    const page = (async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        const client = (await runner.connect()) as PoolClient;
        const result = await client.query<ChainRowValues>({
          text: `${SELECT_ENTRY} WHERE sequence >= $1 AND sequence <= $2 ORDER BY sequence LIMIT ${PAGE_SIZE}`,
          values: [from, to],
          rowMode: 'array',
        });
        return result.rows;
      } finally {
        await runner.release();
      }
    })();
    // Awaited later; marked handled now so a failure while the caller works is not "unhandled".
    page.catch(() => undefined);
    return page;
  }
}

function entryFromValues(values: ChainRowValues): StoredChainEntry {
  return {
    sequence: Number(values[0]),
    timestamp: values[1],
    type: values[2],
    module: values[3],
    canonicalPayload: values[4],
    signature: values[5],
    previousHash: values[6],
    hash: values[7],
  };
}

function toEntry(row: ChainRow): StoredChainEntry {
  return {
    sequence: Number(row.sequence),
    timestamp: row.entry_timestamp,
    type: row.type,
    module: row.module,
    canonicalPayload: row.payload,
    signature: row.signature,
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}
