/**
 * `npm run bench:merkle [-- --entries N] [-- --proofs P]` (default 1,000,000 entries, 2,000 proofs)
 *
 * Measures on a fresh database of DATABASE_URL's server (default the machine's PostgreSQL):
 * 1. the back-fill: a chain of N entries is written without the tree (bench/chain-fixture.ts),
 *    then migration 1797000000000 builds it; its time and the node count are reported;
 * 2. proof latency from the stored tree: P inclusion proofs (random entries, tree size N) and P
 *    consistency proofs (random older size to N), as the proof service reads them, p50/p99/max;
 * 3. the trigger's cost on the hot path: ingestion batches appended with the tree trigger
 *    enabled and disabled (alternating blocks), mean time per batch.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { PendingEvent } from '../src/provenance/chain-append.js';
import { ChainRepository } from '../src/provenance/chain.repository.js';
import { parseCli, wholeNumberFlag } from '../src/cli/cli-support.js';
import { canonicalJson } from '../src/common/canonical-json.js';
import { loadConfig } from '../src/config/app-config.js';
import { createDataSource } from '../src/database/data-source.js';
import { runMigrationsExclusively } from '../src/database/migrate.js';
import { consistencyProof, inclusionProof, treeRoot } from '../src/provenance/merkle.js';
import { MerkleRepository } from '../src/provenance/merkle.repository.js';
import { NonceRepository } from '../src/security/nonce.repository.js';
import { createChainFixture } from './chain-fixture.js';

const USAGE = 'usage: npm run bench:merkle [-- --entries N] [-- --proofs P]';
const flags = parseCli(
  { entries: { type: 'string' }, proofs: { type: 'string' }, help: { type: 'boolean' } },
  USAGE,
);
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const ENTRIES = wholeNumberFlag('entries', flags.entries, 1_000_000, USAGE);
const PROOFS = wholeNumberFlag('proofs', flags.proofs, 2_000, USAGE);
/** Migrations after the tree's, undone with it so the fixture is written as before the tree. */
const TREE_MIGRATIONS = 2;
const BATCH_EVENTS = 16;
/** Blocks of batches with the trigger on, then off, alternating; the first batch after a switch
 * (which replans every statement) is not counted. */
const INGEST_BLOCKS = 6;
const BLOCK_BATCHES = 60;

const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const log = (message: string) => process.stdout.write(`${message}\n`);

function percentiles(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `p50 ${at(0.5).toFixed(2)} ms, p99 ${at(0.99).toFixed(2)} ms, max ${sorted[sorted.length - 1].toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const name = `bridge_bench_merkle_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const dataSource = await createDataSource(url.toString(), 4).initialize();
  try {
    await runMigrationsExclusively(dataSource);
    for (let i = 0; i < TREE_MIGRATIONS; i += 1) {
      await dataSource.undoLastMigration({ transaction: 'each' });
    }
    log(`writing a chain of ${ENTRIES.toLocaleString()} entries without the tree…`);
    await createChainFixture(url.toString(), ENTRIES, log);

    const backfillStart = performance.now();
    await runMigrationsExclusively(dataSource);
    const backfillSeconds = (performance.now() - backfillStart) / 1000;
    const [{ nodes }] = (await dataSource.query(
      'SELECT count(*) AS nodes FROM merkle_nodes',
    )) as Array<{ nodes: string }>;
    log(
      `back-fill: ${backfillSeconds.toFixed(1)} s for ${ENTRIES.toLocaleString()} entries (${nodes} nodes)`,
    );
    await dataSource.query('VACUUM (ANALYZE) merkle_nodes');

    const tree = new MerkleRepository(dataSource);
    await treeRoot(ENTRIES, tree); // warms the connection and the top of the index
    const inclusion: number[] = [];
    for (let i = 0; i < PROOFS; i += 1) {
      const started = performance.now();
      await inclusionProof(randomInt(ENTRIES), ENTRIES, tree);
      inclusion.push(performance.now() - started);
    }
    log(`inclusion proofs at size ${ENTRIES.toLocaleString()}: ${percentiles(inclusion)}`);
    const consistency: number[] = [];
    for (let i = 0; i < PROOFS; i += 1) {
      const started = performance.now();
      await consistencyProof(1 + randomInt(ENTRIES), ENTRIES, tree);
      consistency.push(performance.now() - started);
    }
    log(`consistency proofs to size ${ENTRIES.toLocaleString()}: ${percentiles(consistency)}`);

    await measureTrigger(dataSource);
  } finally {
    await dataSource.destroy();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** Alternating rounds with the trigger on and off, so drift of the machine affects both alike. */
async function measureTrigger(dataSource: Awaited<ReturnType<typeof createDataSource>>) {
  const chain = new ChainRepository(dataSource);
  const nonces = new NonceRepository(dataSource, loadConfig({}));
  let counter = 0;
  const batch = (): PendingEvent[] =>
    Array.from({ length: BATCH_EVENTS }, () => {
      counter += 1;
      const nonce = `bench-merkle-${counter.toString().padStart(12, '0')}`;
      const signedAt = new Date();
      const payload = { module: 'module-a', nonce, timestamp: signedAt.toISOString(), data: {} };
      return {
        type: 'update',
        module: 'module-a',
        nonce,
        signedAt,
        nonceExpiresAt: nonces.expiresAt(signedAt),
        canonicalPayload: canonicalJson(payload),
        signature: randomBytes(256).toString('base64'),
      };
    });
  const times = { on: [] as number[], off: [] as number[] };
  for (let block = 0; block < INGEST_BLOCKS; block += 1) {
    const on = block % 2 === 0;
    await dataSource.query(
      `ALTER TABLE chain_entries ${on ? 'ENABLE' : 'DISABLE'} TRIGGER chain_entries_merkle`,
    );
    const [{ head }] = (await dataSource.query(
      'SELECT max(sequence) AS head FROM chain_entries',
    )) as Array<{ head: string }>;
    for (let i = 0; i <= BLOCK_BATCHES; i += 1) {
      const events = batch();
      const started = performance.now();
      await chain.appendBatch(events);
      if (i > 0) (on ? times.on : times.off).push(performance.now() - started);
    }
    // Entries appended without the trigger get their nodes afterwards, outside the timing.
    if (!on) {
      await dataSource.query(
        'SELECT merkle_backfill($1, (SELECT max(sequence) FROM chain_entries))',
        [Number(head) + 1],
      );
    }
  }
  await dataSource.query('ALTER TABLE chain_entries ENABLE TRIGGER chain_entries_merkle');
  const mean = (samples: number[]) => samples.reduce((a, b) => a + b, 0) / samples.length;
  log(
    `ingestion batch of ${BATCH_EVENTS}: ${mean(times.on).toFixed(2)} ms with the tree trigger, ` +
      `${mean(times.off).toFixed(2)} ms without (${times.on.length} batches each)`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
