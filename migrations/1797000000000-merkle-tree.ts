import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The chain append lock of `ingest_events` (1795900000000): the back-fill holds it too. */
const CHAIN_APPEND_LOCK_KEY = 0x63686e; // "chn"

/** Leaves per back-fill step: bounds the rows PostgreSQL hashes and inserts per statement. */
const BACKFILL_CHUNK = 100_000;

/**
 * The RFC 9162 Merkle tree of the chain (SPEC §5a), as its *full* subtrees: `merkle_nodes (level,
 * idx)` holds the hash of leaves `[idx·2^level, (idx+1)·2^level)`; level 0 holds the leaf hashes
 * `SHA-256(0x00 ‖ entry hash)`. Right-edge partial subtrees are never stored: src/provenance/merkle.ts
 * composes them from at most ⌈log₂ n⌉ full ones, so a proof reads O(log n) rows.
 *
 * The tree grows in the transaction that appends: a statement-level trigger on `chain_entries`
 * stores the batch's leaves and every interior node they complete. Appends are serialized by the
 * chain advisory lock, so the trigger always sees the tree complete up to the batch's first leaf,
 * and its work is O(batch + log n): per level it inserts the parents whose right child is new.
 * The tree and the chain therefore commit or roll back together and cannot disagree.
 */
export class MerkleTree1797000000000 implements MigrationInterface {
  name = 'MerkleTree1797000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE merkle_nodes (
        level smallint NOT NULL CHECK (level >= 0),
        idx   bigint   NOT NULL CHECK (idx >= 0),
        hash  bytea    NOT NULL CHECK (octet_length(hash) = 32),
        PRIMARY KEY (level, idx)
      )`);
    await runner.query(
      `COMMENT ON TABLE merkle_nodes IS 'full subtrees of the RFC 9162 tree over chain_entries.hash; leaf idx = sequence - 1'`,
    );
    // Stores the parents completed by new nodes [first_idx, last_idx] of level 0, level by level.
    // Parent j is complete once its right child 2j+1 exists; the left child is older or new.
    await runner.query(`
      CREATE FUNCTION merkle_complete(first_idx bigint, last_idx bigint) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        lvl smallint := 0;
        lo bigint := first_idx;
        hi bigint := last_idx;
      BEGIN
        LOOP
          lo := lo / 2;
          hi := (hi + 1) / 2 - 1;
          EXIT WHEN hi < lo;
          INSERT INTO merkle_nodes (level, idx, hash)
          SELECT lvl + 1, j, sha256('\\x01'::bytea || l.hash || r.hash)
          FROM generate_series(lo, hi) AS j
          JOIN merkle_nodes l ON l.level = lvl AND l.idx = 2 * j
          JOIN merkle_nodes r ON r.level = lvl AND r.idx = 2 * j + 1;
          lvl := lvl + 1;
        END LOOP;
      END $$`);
    await runner.query(`
      CREATE FUNCTION merkle_extend() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        first_idx bigint;
        last_idx bigint;
      BEGIN
        INSERT INTO merkle_nodes (level, idx, hash)
        SELECT 0, n.sequence - 1, sha256('\\x00'::bytea || decode(n.hash, 'hex'))
        FROM new_entries n;
        SELECT min(n.sequence) - 1, max(n.sequence) - 1 INTO first_idx, last_idx FROM new_entries n;
        IF first_idx IS NOT NULL THEN
          PERFORM merkle_complete(first_idx, last_idx);
        END IF;
        RETURN NULL;
      END $$`);
    // Back-fill under the chain lock, so no append slips in between it and the trigger.
    await runner.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_APPEND_LOCK_KEY]);
    const [{ length }] = (await runner.query(
      'SELECT coalesce(max(sequence), 0) AS length FROM chain_entries',
    )) as Array<{ length: string }>;
    for (let first = 1; first <= Number(length); first += BACKFILL_CHUNK) {
      const last = Math.min(first + BACKFILL_CHUNK - 1, Number(length));
      await runner.query(
        `INSERT INTO merkle_nodes (level, idx, hash)
         SELECT 0, sequence - 1, sha256('\\x00'::bytea || decode(hash, 'hex'))
         FROM chain_entries WHERE sequence BETWEEN $1 AND $2`,
        [first, last],
      );
      await runner.query('SELECT merkle_complete($1, $2)', [first - 1, last - 1]);
    }
    await runner.query(`
      CREATE TRIGGER chain_entries_merkle AFTER INSERT ON chain_entries
      REFERENCING NEW TABLE AS new_entries
      FOR EACH STATEMENT EXECUTE FUNCTION merkle_extend()`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TRIGGER chain_entries_merkle ON chain_entries');
    await runner.query('DROP FUNCTION merkle_extend()');
    await runner.query('DROP FUNCTION merkle_complete(bigint, bigint)');
    await runner.query('DROP TABLE merkle_nodes');
  }
}
