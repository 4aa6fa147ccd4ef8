import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { canonicalJson } from '../src/common/canonical-json.js';
import { chainHash, GENESIS_HASH } from '../src/provenance/chain-hash.js';

const BATCH = 20_000;

/**
 * Writes `count` valid chain entries straight into `chain_entries` (no HTTP, no signatures
 * checked), computing each hash with the service's own formula, then vacuums the table.
 */
export async function createChainFixture(
  databaseUrl: string,
  count: number,
  log: (message: string) => void,
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let previousHash = GENESIS_HASH;
    // The size of a real RS256 signature (2048-bit key: 256 bytes, 344 base64 characters), so
    // the walk hashes what a real chain holds; its content is not checked by the benchmark.
    const signature = randomBytes(256).toString('base64');
    for (let start = 1; start <= count; start += BATCH) {
      const rows = {
        sequence: [] as number[],
        timestamp: [] as string[],
        module: [] as string[],
        payload: [] as string[],
        previous: [] as string[],
        hash: [] as string[],
      };
      for (let sequence = start; sequence < Math.min(start + BATCH, count + 1); sequence += 1) {
        const module = `module-${'abcd'[sequence % 4]}`;
        const timestamp = new Date(Date.UTC(2026, 0, 1) + sequence * 10).toISOString();
        const canonicalPayload = canonicalJson({
          module,
          nonce: `nonce${sequence.toString().padStart(16, '0')}`,
          timestamp,
          data: { reading: sequence },
        });
        const hash = chainHash(
          previousHash,
          { type: 'update', module, canonicalPayload, signature },
          timestamp,
        );
        rows.sequence.push(sequence);
        rows.timestamp.push(timestamp);
        rows.module.push(module);
        rows.payload.push(canonicalPayload);
        rows.previous.push(previousHash);
        rows.hash.push(hash);
        previousHash = hash;
      }
      await client.query(
        `INSERT INTO chain_entries (sequence, entry_timestamp, type, module, payload, signature, previous_hash, hash)
         SELECT s, t, 'update', m, p::json, $7, prev, h FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS b(s, t, m, p, prev, h)`,
        [
          rows.sequence,
          rows.timestamp,
          rows.module,
          rows.payload,
          rows.previous,
          rows.hash,
          signature,
        ],
      );
      if ((start - 1) % 200_000 === 0) log(`  ${(start - 1).toLocaleString()} entries written`);
    }
    // What autovacuum does to any table that has settled: without it, the first reader of freshly
    // bulk-written rows also pays for setting their visibility hints.
    await client.query('VACUUM (ANALYZE) chain_entries');
  } finally {
    await client.end();
  }
}
