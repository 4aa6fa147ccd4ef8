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
 * and its work is O(batch + log n): per level it hashes the new pairs and reads at most one old
 * node.
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
    // Stores new leaves `leaves` (hashes of leaves first_idx, …, contiguous) and every interior
    // node they complete, in one INSERT. Parents are hashed from the hashes in hand (plain
    // expressions for a small batch, one window query per level for a large one); the only stored
    // node read per level is the left sibling of the first new node when that node is a right
    // child, an old and complete subtree: O(batch + log n) work, primary-key lookups only.
    await runner.query(`
      CREATE FUNCTION merkle_append(first_idx bigint, leaves bytea[]) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        lvl smallint := 0;
        lo bigint := first_idx;
        row_hashes bytea[] := leaves;
        parents bytea[];
        left_sibling bytea;
        pairs integer;
        out_levels smallint[] := array_fill(0::smallint, ARRAY[cardinality(leaves)]);
        out_idx bigint[];
        out_hashes bytea[] := leaves;
      BEGIN
        SELECT array_agg(i) INTO out_idx
        FROM generate_series(first_idx, first_idx + cardinality(leaves) - 1) AS i;
        LOOP
          IF lo % 2 = 1 THEN
            SELECT n.hash INTO STRICT left_sibling
            FROM merkle_nodes n WHERE n.level = lvl AND n.idx = lo - 1;
            row_hashes := left_sibling || row_hashes;
            lo := lo - 1;
          END IF;
          pairs := cardinality(row_hashes) / 2;
          EXIT WHEN pairs = 0;
          IF pairs <= 64 THEN
            parents := '{}';
            FOR i IN 1..pairs LOOP
              parents := parents || sha256('\\x01'::bytea || row_hashes[2 * i - 1] || row_hashes[2 * i]);
            END LOOP;
          ELSE
            -- A window over the array, not subscripts (each O(i) on a bytea[]).
            SELECT array_agg(sha256('\\x01'::bytea || p.hash || p.next) ORDER BY p.ord)
            INTO parents
            FROM (SELECT u.hash, u.ord, lead(u.hash) OVER (ORDER BY u.ord) AS next
                  FROM unnest(row_hashes) WITH ORDINALITY AS u(hash, ord)) AS p
            WHERE p.ord % 2 = 1 AND p.next IS NOT NULL;
          END IF;
          lo := lo / 2;
          lvl := lvl + 1;
          out_levels := out_levels || array_fill(lvl, ARRAY[pairs]);
          FOR i IN 0..pairs - 1 LOOP
            out_idx := out_idx || (lo + i);
          END LOOP;
          out_hashes := out_hashes || parents;
          row_hashes := parents;
        END LOOP;
        INSERT INTO merkle_nodes (level, idx, hash)
        SELECT * FROM unnest(out_levels, out_idx, out_hashes);
      END $$`);
    // Appends are contiguous (one ingest_events call under the chain lock); anything else would
    // misplace nodes, so it is refused and the append rolls back.
    await runner.query(`
      CREATE FUNCTION merkle_extend() RETURNS trigger
      LANGUAGE plpgsql AS $$
      DECLARE
        first_idx bigint;
        last_idx bigint;
        leaves bytea[];
      BEGIN
        SELECT min(n.sequence) - 1, max(n.sequence) - 1,
               array_agg(sha256('\\x00'::bytea || decode(n.hash, 'hex')) ORDER BY n.sequence)
        INTO first_idx, last_idx, leaves FROM new_entries n;
        IF first_idx IS NULL THEN
          RETURN NULL;
        END IF;
        IF last_idx - first_idx + 1 <> cardinality(leaves) THEN
          RAISE EXCEPTION 'chain_entries appends must be contiguous to extend the Merkle tree';
        END IF;
        PERFORM merkle_append(first_idx, leaves);
        RETURN NULL;
      END $$`);
    // The tree of entries first_seq … last_seq, the tree before them being complete: the
    // migration's back-fill, and a repair after appends made without the trigger.
    await runner.query(`
      CREATE FUNCTION merkle_backfill(first_seq bigint, last_seq bigint) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        leaves bytea[];
      BEGIN
        SELECT array_agg(sha256('\\x00'::bytea || decode(c.hash, 'hex')) ORDER BY c.sequence)
        INTO leaves FROM chain_entries c WHERE c.sequence BETWEEN first_seq AND last_seq;
        IF coalesce(array_length(leaves, 1), 0) <> last_seq - first_seq + 1 THEN
          RAISE EXCEPTION 'the chain has a gap between % and %', first_seq, last_seq;
        END IF;
        PERFORM merkle_append(first_seq - 1, leaves);
      END $$`);
    // Back-fill under the chain lock, so no append slips in between it and the trigger. Chunks
    // bound what one statement holds in memory.
    await runner.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_APPEND_LOCK_KEY]);
    const [{ length }] = (await runner.query(
      'SELECT coalesce(max(sequence), 0) AS length FROM chain_entries',
    )) as Array<{ length: string }>;
    for (let first = 1; first <= Number(length); first += BACKFILL_CHUNK) {
      const last = Math.min(first + BACKFILL_CHUNK - 1, Number(length));
      await runner.query('SELECT merkle_backfill($1, $2)', [first, last]);
    }
    await runner.query(`
      CREATE TRIGGER chain_entries_merkle AFTER INSERT ON chain_entries
      REFERENCING NEW TABLE AS new_entries
      FOR EACH STATEMENT EXECUTE FUNCTION merkle_extend()`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TRIGGER chain_entries_merkle ON chain_entries');
    await runner.query('DROP FUNCTION merkle_extend()');
    await runner.query('DROP FUNCTION merkle_backfill(bigint, bigint)');
    await runner.query('DROP FUNCTION merkle_append(bigint, bytea[])');
    await runner.query('DROP TABLE merkle_nodes');
  }
}
