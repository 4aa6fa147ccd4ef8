import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { canonicalJson } from '../src/common/canonical-json.js';
import { loadConfig } from '../src/config/app-config.js';
import { createDataSource } from '../src/database/data-source.js';
import { runMigrationsExclusively } from '../src/database/migrate.js';
import type { PendingEvent } from '../src/provenance/chain-append.js';
import { canonicalEvent, GENESIS_HASH } from '../src/provenance/chain-hash.js';
import { verifyChain } from '../src/provenance/chain-verifier.js';
import { ChainRepository } from '../src/provenance/chain.repository.js';
import { NonceRepository } from '../src/security/nonce.repository.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { loadVectors } from './support/vectors.js';

const INGEST_EVENTS_SQL = new URL('../src/provenance/ingest-events.sql', import.meta.url);

/** The file's `CREATE OR REPLACE FUNCTION` statements by function name, in the file's order. */
function functionsDefinedIn(sql: string): Map<string, string> {
  const statements = sql.split(/^(?=CREATE OR REPLACE FUNCTION )/m).slice(1);
  return new Map(
    statements.map((statement) => [
      /^CREATE OR REPLACE FUNCTION public\.(\w+)\(/.exec(statement)![1],
      statement.trim().replace(/;$/, ''),
    ]),
  );
}

/** Indentation and line breaks are the writer's; everything else must match. */
function collapseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The ingestion transaction appends in PostgreSQL (`ingest_events`), so the chain formula of SPEC §5
 * exists there too. It must give the same bytes as the service's own code and the Python vectors.
 */
describe('the ingest_events function (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let chain: ChainRepository;
  let nonces: NonceRepository;

  beforeAll(async () => {
    db = await createTestDatabase('ingest_function');
    // The service must append correctly whatever isolation the server defaults to.
    await db.query(
      `ALTER DATABASE ${db.name} SET default_transaction_isolation = 'repeatable read'`,
    );
    dataSource = await createDataSource(db.url, 4).initialize();
    await runMigrationsExclusively(dataSource);
    chain = new ChainRepository(dataSource);
    nonces = new NonceRepository(dataSource, loadConfig({}));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it.each(loadVectors().chain.map((entry) => [entry.sequence, entry] as const))(
    'composes the canonical event and hash of vector entry %i byte for byte',
    async (_sequence, entry) => {
      const [row] = await db.query<{ event: string; hash: string }>(
        `SELECT chain_event_text($1, $2, $3, $4) AS event,
                chain_hash($5, chain_event_text($1, $2, $3, $4), $6) AS hash`,
        [
          entry.type,
          entry.module,
          canonicalJson(entry.payload),
          entry.signature,
          entry.previous_hash,
          entry.timestamp,
        ],
      );
      expect(row).toEqual({ event: entry.canonical_event, hash: entry.hash });
    },
  );

  it('escapes strings as the service does, for every character JSON treats specially', async () => {
    const awkward = [
      'quote " back \\ slash',
      'controls \b\f\n\r\t \u0001 \u001f',
      'del \u007f',
      'é ü 漢 😀',
    ];
    for (const text of awkward) {
      const content = {
        type: 'update' as const,
        module: text,
        canonicalPayload: '{}',
        signature: text,
      };
      const [row] = await db.query<{ event: string }>(
        'SELECT chain_event_text($1, $2, $3, $4) AS event',
        [content.type, content.module, content.canonicalPayload, content.signature],
      );
      expect(row.event).toBe(canonicalEvent(content));
    }
  });

  it('holds each function exactly as src/provenance/ingest-events.sql writes it', async () => {
    const definitions = functionsDefinedIn(readFileSync(INGEST_EVENTS_SQL, 'utf8'));
    expect([...definitions.keys()]).toEqual(['chain_event_text', 'chain_hash', 'ingest_events']);
    for (const [name, definition] of definitions) {
      // `::regproc` also fails when an older overload of the function survived the migrations.
      const [row] = await db.query<{ definition: string }>(
        'SELECT pg_get_functiondef($1::regproc) AS definition',
        [name],
      );
      expect(collapseWhitespace(row.definition)).toBe(collapseWhitespace(definition));
    }
  });

  describe('a batch', () => {
    const signedAt = new Date();
    const event = (nonce: string, extra: Partial<PendingEvent> = {}): PendingEvent => {
      const payload = {
        module: 'module-a',
        nonce,
        timestamp: signedAt.toISOString(),
        data: { n: nonce },
      };
      return {
        type: 'update',
        module: 'module-a',
        nonce,
        nonceExpiresAt: nonces.expiresAt(signedAt),
        signedAt,
        canonicalPayload: canonicalJson(payload),
        signature: `sig-${nonce}`,
        ...extra,
      };
    };
    const heartbeat = (nonce: string, status: string, node?: string) =>
      event(nonce, {
        type: 'heartbeat',
        status,
        node,
        canonicalPayload: canonicalJson({
          module: 'module-a',
          nonce,
          status,
          timestamp: signedAt.toISOString(),
        }),
      });

    it('accepts each nonce once, appends in order and stores rows and totals with it', async () => {
      const first = await chain.appendBatch([event('nonce-used-before-0001')]);
      expect(first).toEqual([
        { accepted: expect.objectContaining({ sequence: 1, previousHash: GENESIS_HASH }) },
      ]);

      const outcomes = await chain.appendBatch([
        event('nonce-batch-000000001'),
        event('nonce-used-before-0001'),
        heartbeat('nonce-batch-000000002', 'alive', 'node-1'),
        event('nonce-batch-000000001'),
        heartbeat('nonce-batch-000000003', 'degraded'),
      ]);
      expect(
        outcomes.map((outcome) => ('accepted' in outcome ? outcome.accepted.sequence : 'replayed')),
      ).toEqual([2, 'replayed', 3, 'replayed', 4]);

      const accepted = outcomes.flatMap((outcome) =>
        'accepted' in outcome ? [outcome.accepted] : [],
      );
      const stamp = accepted[0].timestamp;
      expect(new Date(stamp).toISOString()).toBe(stamp);
      expect(accepted.every((entry) => entry.timestamp === stamp)).toBe(true);
      expect(accepted[0].previousHash).toBe(
        (first[0] as { accepted: { hash: string } }).accepted.hash,
      );

      // The service's own walk recomputes every hash PostgreSQL made.
      const verdict = await verifyChain(chain.streamFrom(1));
      expect(verdict).toEqual({ valid: true, length: 4, head_hash: accepted[2].hash });

      const rows = await db.query(
        'SELECT sequence, type, node, status, data::text AS data FROM bucket_events ORDER BY sequence',
      );
      expect(rows).toEqual([
        {
          sequence: '1',
          type: 'update',
          node: null,
          status: null,
          data: '{"n":"nonce-used-before-0001"}',
        },
        {
          sequence: '2',
          type: 'update',
          node: null,
          status: null,
          data: '{"n":"nonce-batch-000000001"}',
        },
        { sequence: '3', type: 'heartbeat', node: 'node-1', status: 'alive', data: null },
        { sequence: '4', type: 'heartbeat', node: null, status: 'degraded', data: null },
      ]);
      const [totals] = await db.query(
        `SELECT updates, heartbeats, last_status, last_node, last_update_at IS NOT NULL AS updated
         FROM module_stats WHERE module = 'module-a'`,
      );
      // The latest heartbeat named no node, so the last known node stays.
      expect(totals).toEqual({
        updates: '2',
        heartbeats: '2',
        last_status: 'degraded',
        last_node: 'node-1',
        updated: true,
      });
      const [{ count }] = await db.query<{ count: string }>('SELECT count(*) AS count FROM nonces');
      expect(count).toBe('4');
    });

    it('keeps the chain contiguous when batches race (each reads the head after the lock)', async () => {
      const before = await chain.head();
      const rounds = Array.from({ length: 10 }, (_, round) =>
        Promise.all(
          ['a', 'b', 'c'].map((racer) =>
            chain.appendBatch([event(`nonce-race-${round}-${racer}-00000`)]),
          ),
        ),
      );
      const outcomes = (await Promise.all(rounds)).flat(2);
      expect(outcomes.every((outcome) => 'accepted' in outcome)).toBe(true);
      const verdict = await verifyChain(chain.streamFrom(1));
      expect(verdict).toMatchObject({ valid: true, length: before.length + 30 });
    });

    it('stores nothing for a batch of replays', async () => {
      const before = await chain.head();
      expect(await chain.appendBatch([event('nonce-batch-000000001')])).toEqual([
        { replayed: true },
      ]);
      expect(await chain.head()).toEqual(before);
    });
  });
});
