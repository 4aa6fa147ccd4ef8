-- The write path of SPEC §4 step 8 and the chain formula of SPEC §5, as the database holds them now.
--
-- This file is the reading copy, not what changes the database: every change ships as a new
-- migration (the latest one to define these functions is 1796000000000-ingest-events-typed), and
-- this file is updated with it. test/ingest-function.int-spec.ts compares each function below with
-- `pg_get_functiondef` in a freshly migrated database, so the two cannot drift; the functions are
-- written in the form `pg_get_functiondef` prints them.
--
-- A batch of verified events is ingested by one call of `ingest_events`, which runs as its own
-- transaction: it claims the nonces, takes the chain lock, appends the chain entries and stores the
-- bucket rows and totals, and commits, without a round trip to the service in between. The chain
-- lock is therefore held only for the database's own work and the commit, never while a busy
-- service gets round to sending its next statement. The caller is `ChainRepository.appendBatch`
-- (src/provenance/chain-append.ts builds the argument).
--
-- The chain lock's key, 6514798, is AdvisoryLock.ChainAppend (src/database/advisory-lock.ts, whose
-- spec holds the two equal).

CREATE OR REPLACE FUNCTION public.chain_event_text(type text, module text, payload text, signature text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE STRICT
AS $function$
        SELECT '{"module":' || to_json(module)::text || ',"payload":' || payload
          || ',"signature":' || to_json(signature)::text || ',"type":' || to_json(type)::text || '}'
      $function$;

CREATE OR REPLACE FUNCTION public.chain_hash(previous_hash text, event_text text, entry_timestamp text)
 RETURNS text
 LANGUAGE sql
 IMMUTABLE PARALLEL SAFE STRICT
AS $function$
        SELECT encode(sha256(convert_to(previous_hash || event_text || entry_timestamp, 'UTF8')), 'hex')
      $function$;

CREATE OR REPLACE FUNCTION public.ingest_events(events jsonb)
 RETURNS TABLE(event_index integer, sequence bigint, entry_timestamp text, previous_hash text, hash text)
 LANGUAGE plpgsql
AS $function$
      #variable_conflict use_column
      DECLARE
        event_types text[];
        event_modules text[];
        event_nonces text[];
        nonce_expiry timestamptz[];
        event_payloads text[];
        event_signatures text[];
        event_signed_at timestamptz[];
        event_nodes text[];
        event_statuses text[];
        accepted integer[];
        head_sequence bigint;
        head_hash text;
        stamp text;
        entry_hashes text[] := '{}';
        previous text;
        i integer;
      BEGIN
        -- The argument is a JSON array of objects with these keys (written by appendBatchVia in
        -- chain-append.ts). Each payload is a JSON string holding the canonical payload text, so
        -- its bytes reach the chain exactly as signed. An event's index is its position, from 1.
        SELECT array_agg(e.type ORDER BY e.ord), array_agg(e.module ORDER BY e.ord),
               array_agg(e.nonce ORDER BY e.ord), array_agg(e.expires_at ORDER BY e.ord),
               array_agg(e.payload ORDER BY e.ord), array_agg(e.signature ORDER BY e.ord),
               array_agg(e.signed_at ORDER BY e.ord), array_agg(e.node ORDER BY e.ord),
               array_agg(e.status ORDER BY e.ord)
        INTO event_types, event_modules, event_nonces, nonce_expiry, event_payloads,
             event_signatures, event_signed_at, event_nodes, event_statuses
        FROM ROWS FROM (jsonb_to_recordset(events) AS (type text, module text, nonce text,
               expires_at timestamptz, payload text, signature text, signed_at timestamptz,
               node text, status text))
             WITH ORDINALITY AS e(type, module, nonce, expires_at, payload, signature, signed_at,
               node, status, ord);

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

        -- The chain lock, taken before the head is read, or two replicas could both extend the
        -- same head. Held until this statement's transaction commits. Under READ COMMITTED (the service sets it on its
        -- connections) each statement here takes a fresh snapshot, so the head read below sees
        -- every append committed before the lock was granted.
        PERFORM pg_advisory_xact_lock(6514798);
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
      $function$;
