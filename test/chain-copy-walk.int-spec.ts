import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../src/database/data-source.js';
import { runMigrationsExclusively } from '../src/database/migrate.js';
import type { StoredChainEntry } from '../src/provenance/chain-entry.js';
import { chainHash, GENESIS_HASH, type ChainEventType } from '../src/provenance/chain-hash.js';
import { verifySliceByCopy } from '../src/provenance/chain-slices.js';
import { ChainRepository } from '../src/provenance/chain.repository.js';
import { ChainVerification, combineSlices, verifyChain } from '../src/provenance/chain-verifier.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

interface Content {
  type?: string;
  module?: string;
  payload: string;
  signature?: string;
}

/**
 * The COPY walk of `chain:verify` hashes raw row bytes and must agree with the reference walk on
 * every entry, including those whose text COPY escapes or JSON would escape (real PostgreSQL).
 */
describe('chain verification over COPY rows', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase('chain_copy');
    dataSource = await createDataSource(db.url, 2).initialize();
    await runMigrationsExclusively(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  beforeEach(() => db.query('DELETE FROM chain_entries; DELETE FROM merkle_nodes'));

  /** Stores entries hashed with the service's formula, optionally overriding stored fields. */
  async function store(
    contents: Content[],
    override: (entry: StoredChainEntry) => void = () => {},
  ) {
    let previousHash = GENESIS_HASH;
    const entries = contents.map((content, index) => {
      const event = {
        type: (content.type ?? 'update') as ChainEventType,
        module: content.module ?? 'module-a',
        canonicalPayload: content.payload,
        signature: content.signature ?? 'c2lnbmF0dXJl',
      };
      const timestamp = new Date(Date.UTC(2026, 10, 26, 12, 0, index)).toISOString();
      const hash = chainHash(previousHash, event, timestamp);
      const entry: StoredChainEntry = {
        ...event,
        sequence: index + 1,
        timestamp,
        previousHash,
        hash,
      };
      previousHash = hash;
      return entry;
    });
    entries.forEach(override);
    for (const entry of entries) {
      await db.query(
        `INSERT INTO chain_entries (sequence, entry_timestamp, type, module, payload, signature, previous_hash, hash)
         VALUES ($1, $2, $3, $4, $5::json, $6, $7, $8)`,
        [
          entry.sequence,
          entry.timestamp,
          entry.type,
          entry.module,
          entry.canonicalPayload,
          entry.signature,
          entry.previousHash,
          entry.hash,
        ],
      );
    }
  }

  /** The verdict of the reference walk, and of the COPY walk in one slice and in `slices`. */
  async function verdicts(slices: number) {
    const reference = await verifyChain(new ChainRepository(dataSource).streamFrom(1));
    const [{ last }] = await db.query<{ last: number }>(
      'SELECT max(sequence)::int AS last FROM chain_entries',
    );
    const whole = new ChainVerification(undefined, []);
    await verifySliceByCopy(
      { databaseUrl: db.url, from: 1, to: last, recordHashesAt: [] },
      whole,
      () => {},
    );
    const parts = [];
    for (let index = 0; index < slices; index += 1) {
      const from = Math.floor((last * index) / slices) + 1;
      const to = Math.floor((last * (index + 1)) / slices);
      parts.push(
        await verifySliceByCopy(
          { databaseUrl: db.url, from, to, recordHashesAt: [] },
          ChainVerification.unanchored(),
          () => {},
        ),
      );
    }
    return { reference, whole: whole.verdict(), sliced: combineSlices(parts).verdict() };
  }

  const TRICKY: Content[] = [
    { payload: '{"text":"back\\\\slash and \\"quotes\\""}' },
    { payload: '{"lines":"one\\ntwo\\tthree\\r","nul":"\\u0000"}' },
    { payload: '{"text":"café ✓ 😀 \u2028"}', module: 'modülé' },
    { payload: '{"a":1}', module: 'quo"te', type: 'heartbeat' },
    { payload: '{"a":2}', module: 'tab\there', signature: 'back\\slash' },
    { payload: '{"a":3}', signature: 'control\u0001char' },
    { payload: '[1,2,{"z":null}]' },
    { payload: '{"a":4}' },
  ];

  it('accepts entries with escaped, quoted, non-ASCII and control characters, in one or many slices', async () => {
    await store(TRICKY);
    const { reference, whole, sliced } = await verdicts(3);
    expect(reference).toMatchObject({ valid: true, length: TRICKY.length });
    expect(whole).toEqual(reference);
    expect(sliced).toEqual(reference);
  });

  it('refuses a hash computed over the raw bytes where JSON escapes them', async () => {
    await store(TRICKY, (entry) => {
      if (entry.sequence !== 6) return;
      // What a reader that quoted the signature without escaping would compute.
      entry.hash = createHash('sha256')
        .update(
          `${entry.previousHash}{"module":"${entry.module}","payload":${entry.canonicalPayload},` +
            `"signature":"${entry.signature}","type":"${entry.type}"}${entry.timestamp}`,
        )
        .digest('hex');
    });
    const { reference, whole, sliced } = await verdicts(4);
    expect(reference).toMatchObject({
      valid: false,
      first_invalid_sequence: 6,
      reason: 'hash_mismatch',
    });
    expect(whole).toEqual(reference);
    expect(sliced).toEqual(reference);
  });

  it.each([
    [
      'a changed payload',
      `UPDATE chain_entries SET payload = '{"a":5}' WHERE sequence = 8`,
      8,
      'hash_mismatch',
    ],
    ['a deleted row at a joint', 'DELETE FROM chain_entries WHERE sequence = 5', 5, 'gap'],
    [
      'an altered previous_hash at a joint',
      `UPDATE chain_entries SET previous_hash = repeat('1', 64) WHERE sequence = 3`,
      3,
      'broken_link',
    ],
    [
      'a changed timestamp',
      `UPDATE chain_entries SET entry_timestamp = 'x' WHERE sequence = 1`,
      1,
      'hash_mismatch',
    ],
  ])('reports %s as the reference walk does', async (_change, sql, sequence, reason) => {
    await store(TRICKY);
    await db.query(sql);
    const { reference, whole, sliced } = await verdicts(4);
    expect(reference).toMatchObject({ valid: false, first_invalid_sequence: sequence, reason });
    expect(whole).toEqual(reference);
    expect(sliced).toEqual(reference);
  });

  it('verifies a chain longer than one COPY chunk, across chunk borders', async () => {
    const long = Array.from({ length: 3_000 }, (_, index) => ({
      payload: `{"index":${index},"text":"${'x'.repeat(index % 97)}\\\\"}`,
    }));
    await store(long);
    const { reference, whole, sliced } = await verdicts(2);
    expect(reference).toMatchObject({ valid: true, length: 3_000 });
    expect(whole).toEqual(reference);
    expect(sliced).toEqual(reference);
  });
});
