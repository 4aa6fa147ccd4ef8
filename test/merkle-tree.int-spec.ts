import type { DataSource } from 'typeorm';
import type { IncomingEvent } from '../src/bucket/ingestion.types.js';
import { canonicalJson } from '../src/common/canonical-json.js';
import { loadConfig } from '../src/config/app-config.js';
import { createDataSource } from '../src/database/data-source.js';
import { runMigrationsExclusively } from '../src/database/migrate.js';
import { ChainRepository } from '../src/provenance/chain.repository.js';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  MemoryMerkleTree,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from '../src/provenance/merkle.js';
import { MerkleRepository } from '../src/provenance/merkle.repository.js';
import { NonceRepository } from '../src/security/nonce.repository.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/**
 * The tree is extended by a trigger in the appending transaction (migration 1797000000000) and
 * back-filled by that migration for a chain that existed before it. Either way every stored node
 * must equal the one an independent in-memory tree computes from the chain's hashes.
 */
describe('the Merkle tree in PostgreSQL', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let chain: ChainRepository;
  let nonceRepository: NonceRepository;
  let nodes: MerkleRepository;
  let counter = 0;

  const event = (): IncomingEvent => {
    counter += 1;
    const nonce = `merkle-nonce-${String(counter).padStart(8, '0')}`;
    const signedAt = new Date();
    const payload = { module: 'module-a', nonce, timestamp: signedAt.toISOString(), data: {} };
    return {
      type: 'update',
      module: 'module-a',
      nonce,
      signedAt,
      canonicalPayload: canonicalJson(payload),
      signature: `sig-${nonce}`,
    };
  };
  const append = (count: number) =>
    chain.appendBatch(
      Array.from({ length: count }, () => {
        const pending = event();
        return { ...pending, nonceExpiresAt: nonceRepository.expiresAt(pending.signedAt) };
      }),
    );

  /** The chain's own tree, recomputed from its entry hashes without the database's help. */
  async function chainTree(): Promise<MemoryMerkleTree> {
    const tree = new MemoryMerkleTree();
    for await (const entry of new ChainRepository(dataSource).streamFrom(1)) {
      tree.append(leafHash(Buffer.from(entry.hash, 'hex')));
    }
    return tree;
  }

  /** Every stored node equals the recomputed one, and exactly the full subtrees are stored. */
  async function expectTreeMatchesChain(): Promise<void> {
    const tree = await chainTree();
    const rows = await db.query<{ level: number; idx: string; hash: Buffer }>(
      'SELECT level, idx, hash FROM merkle_nodes ORDER BY level, idx',
    );
    const expected: string[] = [];
    for (let level = 0; 2 ** level <= tree.size; level += 1) {
      const count = Math.floor(tree.size / 2 ** level);
      const ids = Array.from({ length: count }, (_, index) => ({ level, index }));
      const hashes = await tree.readNodes(ids);
      hashes.forEach((hash, index) => expected.push(`${level}/${index}/${hash.toString('hex')}`));
    }
    expect(rows.map((row) => `${row.level}/${row.idx}/${row.hash.toString('hex')}`)).toEqual(
      expected,
    );
    expect(await nodes.size()).toBe(tree.size);
  }

  beforeAll(async () => {
    db = await createTestDatabase('merkle_tree');
    dataSource = await createDataSource(db.url, 6).initialize();
    await runMigrationsExclusively(dataSource);
    chain = new ChainRepository(dataSource);
    nonceRepository = new NonceRepository(dataSource, loadConfig({}));
    nodes = new MerkleRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('extends the tree with each append, batches of any size', async () => {
    // 300 takes the trigger's path for large batches (a window query per level).
    for (const size of [1, 1, 2, 3, 5, 8, 1, 13, 300, 2]) await append(size);
    await expectTreeMatchesChain();
  });

  it('stays equal to the chain after concurrent appends from several connections', async () => {
    await Promise.all(
      Array.from({ length: 5 }, async (_, racer) => {
        for (let round = 0; round < 8; round += 1) await append(1 + ((racer + round) % 4));
      }),
    );
    await expectTreeMatchesChain();
  });

  it('serves proofs from the stored nodes that verify against the recomputed roots', async () => {
    const tree = await chainTree();
    const size = await nodes.size();
    const root = await treeRoot(size, tree);
    expect(await treeRoot(size, nodes)).toEqual(root);
    for (const index of [0, 1, Math.floor(size / 2), size - 2, size - 1]) {
      const proof = await inclusionProof(index, size, nodes);
      const [leaf] = await tree.readNodes([{ level: 0, index }]);
      expect(() => verifyInclusion(index, size, leaf, proof, root)).not.toThrow();
    }
    for (const from of [1, 7, 8, size - 1]) {
      const proof = await consistencyProof(from, size, nodes);
      const fromRoot = await treeRoot(from, tree);
      expect(() => verifyConsistency(from, size, fromRoot, root, proof)).not.toThrow();
    }
  });

  it('back-fills a chain that grew without the tree, then extends it again', async () => {
    await dataSource.undoLastMigration({ transaction: 'each' });
    await append(37);
    await append(4);
    await runMigrationsExclusively(dataSource);
    await expectTreeMatchesChain();
    await append(3);
    await expectTreeMatchesChain();
  });
});
