import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Must equal the key the service used before this migration, so old and new replicas agree. */
const CHAIN_APPEND_LOCK_KEY = 0x63686e; // "chn"

/**
 * SPEC §4 step 8 as one statement. A batch of verified events is ingested by a single call of
 * `ingest_events`, which runs as its own transaction: it claims the nonces, takes the chain lock,
 * appends the chain entries and stores the bucket rows, and commits, without a round trip to the
 * service in between. The chain lock is therefore held only for the database's own work and the
 * commit, never while a busy service gets round to sending its next statement, which is what lets
 * several replicas append at full speed.
 *
 * The chain formula of SPEC §5 is computed here by `chain_hash` over the text that
 * `chain_event_text` composes; `chain:verify` recomputes every hash in the service's code, and a
 * test pins both to the shared vectors.
 */
export class IngestFunction1795900000000 implements MigrationInterface {
  name = 'IngestFunction1795900000000';

  async up(runner: QueryRunner): Promise<void> {
    // JCS of {"module","payload","signature","type"} from an already canonical payload. JCS sorts
    // the four keys as written, and to_json escapes a string exactly as JCS does (RFC 8785
    // §3.2.2.2: \b \f \n \r \t \" \\ and \u00xx for other control characters, nothing else).
    await runner.query(`
      CREATE FUNCTION chain_event_text(type text, module text, payload text, signature text)
      RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT '{"module":' || to_json(module)::text || ',"payload":' || payload
          || ',"signature":' || to_json(signature)::text || ',"type":' || to_json(type)::text || '}'
      $$`);
    await runner.query(`
      CREATE FUNCTION chain_hash(previous_hash text, event_text text, entry_timestamp text)
      RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT encode(sha256(convert_to(previous_hash || event_text || entry_timestamp, 'UTF8')), 'hex')
      $$`);
    await runner.query(`
      CREATE FUNCTION ingest_events(
        event_types text[], event_modules text[], event_nonces text[], nonce_expiry timestamptz[],
        event_payloads text[], event_signatures text[], event_signed_at timestamptz[],
        event_nodes text[], event_statuses text[])
      RETURNS TABLE (event_index integer, sequence bigint, entry_timestamp text,
                     previous_hash text, hash text)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        accepted integer[];
        head_sequence bigint;
        head_hash text;
        stamp text;
        entry_hashes text[] := '{}';
        previous text;
        i integer;
      BEGIN
        -- Nonces first, before the chain lock, in sorted order: concurrent batches lock nonce rows
        -- in one order and nothing waits for a nonce row while holding the chain lock, so racing
        -- batches queue and never deadlock. A nonce taken earlier, or earlier in this batch, makes
        -- its event a replay.
        WITH claimed AS (
          INSERT INTO nonces (nonce, module, expires_at)
          SELECT b.nonce, b.module, b.expiry
          FROM unnest(event_nonces, event_modules, nonce_expiry) AS b(nonce, module, expiry)
          ORDER BY 1
          ON CONFLICT (nonce) DO NOTHING
          RETURNING nonces.nonce
        )
        SELECT coalesce(array_agg(first_index ORDER BY first_index), '{}') INTO accepted
        FROM (
          SELECT min(u.ord)::integer AS first_index
          FROM unnest(event_nonces) WITH ORDINALITY AS u(nonce, ord)
          WHERE u.nonce IN (SELECT claimed.nonce FROM claimed)
          GROUP BY u.nonce
        ) AS firsts;
        IF cardinality(accepted) = 0 THEN
          RETURN;
        END IF;

        -- Taken before the head is read, or two replicas could both extend the same head. Held
        -- until this statement's transaction commits. Under READ COMMITTED (the service sets it on
        -- its connections) each statement here takes a fresh snapshot, so the head read below sees
        -- every append committed before the lock was granted.
        PERFORM pg_advisory_xact_lock(${CHAIN_APPEND_LOCK_KEY});
        SELECT c.sequence, c.hash INTO head_sequence, head_hash
        FROM chain_entries c ORDER BY c.sequence DESC LIMIT 1;
        IF NOT FOUND THEN
          head_sequence := 0;
          head_hash := repeat('0', 64);
        END IF;
        -- Stamped once the lock is held, on the database's clock: timestamps never decrease
        -- along the chain, whichever replica appends. The format is JavaScript's toISOString.
        stamp := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

        previous := head_hash;
        FOREACH i IN ARRAY accepted LOOP
          previous := chain_hash(previous,
            chain_event_text(event_types[i], event_modules[i], event_payloads[i], event_signatures[i]), stamp);
          entry_hashes := entry_hashes || previous;
        END LOOP;

        RETURN QUERY
        WITH batch AS (
          SELECT a.event_index, head_sequence + a.position AS sequence, a.hash,
                 coalesce(entry_hashes[a.position::integer - 1], head_hash) AS previous_hash
          FROM unnest(accepted, entry_hashes) WITH ORDINALITY AS a(event_index, hash, position)
        ),
        entries AS (
          INSERT INTO chain_entries
            (sequence, entry_timestamp, type, module, payload, signature, previous_hash, hash)
          SELECT b.sequence, stamp, event_types[b.event_index], event_modules[b.event_index],
                 event_payloads[b.event_index]::json, event_signatures[b.event_index],
                 b.previous_hash, b.hash
          FROM batch b
          RETURNING chain_entries.sequence, chain_entries.type, chain_entries.module,
                    chain_entries.payload
        ),
        stored AS (
          INSERT INTO bucket_events (sequence, type, module, node, status, data, signed_at, received_at)
          SELECT e.sequence, e.type, e.module, event_nodes[b.event_index],
                 event_statuses[b.event_index],
                 CASE WHEN e.type = 'update' THEN e.payload -> 'data' END,
                 event_signed_at[b.event_index], stamp::timestamptz
          FROM entries e JOIN batch b ON b.sequence = e.sequence
          RETURNING bucket_events.sequence, bucket_events.type, bucket_events.module,
                    bucket_events.node, bucket_events.status
        ),
        totals AS (
          INSERT INTO module_stats AS s
            (module, updates, heartbeats, last_update_at, last_heartbeat_at, last_status, last_node)
          SELECT st.module,
                 count(*) FILTER (WHERE st.type = 'update'),
                 count(*) FILTER (WHERE st.type = 'heartbeat'),
                 CASE WHEN bool_or(st.type = 'update') THEN stamp::timestamptz END,
                 CASE WHEN bool_or(st.type = 'heartbeat') THEN stamp::timestamptz END,
                 (array_agg(st.status ORDER BY st.sequence DESC)
                    FILTER (WHERE st.type = 'heartbeat'))[1],
                 (array_agg(st.node ORDER BY st.sequence DESC)
                    FILTER (WHERE st.type = 'heartbeat' AND st.node IS NOT NULL))[1]
          FROM stored st
          GROUP BY st.module
          ON CONFLICT (module) DO UPDATE SET
            updates = s.updates + EXCLUDED.updates,
            heartbeats = s.heartbeats + EXCLUDED.heartbeats,
            last_update_at = coalesce(EXCLUDED.last_update_at, s.last_update_at),
            last_heartbeat_at = coalesce(EXCLUDED.last_heartbeat_at, s.last_heartbeat_at),
            last_status = coalesce(EXCLUDED.last_status, s.last_status),
            last_node = coalesce(EXCLUDED.last_node, s.last_node)
        )
        SELECT b.event_index, b.sequence, stamp, b.previous_hash::text, b.hash FROM batch b;
      END
      $$`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(
      'DROP FUNCTION ingest_events(text[], text[], text[], timestamptz[], text[], text[], timestamptz[], text[], text[])',
    );
    await runner.query('DROP FUNCTION chain_hash(text, text, text)');
    await runner.query('DROP FUNCTION chain_event_text(text, text, text, text)');
  }
}
