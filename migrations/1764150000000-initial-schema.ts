import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Nonces, the provenance chain, the bucket and the security log. */
export class InitialSchema1764150000000 implements MigrationInterface {
  name = 'InitialSchema1764150000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE chain_entries (
        sequence        bigint PRIMARY KEY CHECK (sequence > 0),
        entry_timestamp text   NOT NULL,
        type            text   NOT NULL CHECK (type IN ('update', 'heartbeat')),
        module          text   NOT NULL,
        payload         json   NOT NULL,
        signature       text   NOT NULL,
        previous_hash   char(64) NOT NULL,
        hash            char(64) NOT NULL
      )`);
    await runner.query(
      `COMMENT ON COLUMN chain_entries.entry_timestamp IS 'hashed server timestamp, kept as the exact string'`,
    );
    await runner.query(
      `COMMENT ON COLUMN chain_entries.payload IS 'RFC 8785 text of the signed payload (json keeps the text as written)'`,
    );

    await runner.query(`
      CREATE TABLE nonces (
        nonce      text PRIMARY KEY,
        module     text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await runner.query(`CREATE INDEX nonces_expires_at_idx ON nonces (expires_at)`);

    await runner.query(`
      CREATE TABLE bucket_events (
        sequence    bigint PRIMARY KEY REFERENCES chain_entries (sequence),
        type        text NOT NULL,
        module      text NOT NULL,
        node        text,
        status      text,
        data        json,
        signed_at   timestamptz NOT NULL,
        received_at timestamptz NOT NULL
      )`);
    await runner.query(`CREATE INDEX bucket_events_module_idx ON bucket_events (module, sequence)`);

    await runner.query(`
      CREATE TABLE module_stats (
        module            text PRIMARY KEY,
        updates           bigint NOT NULL DEFAULT 0,
        heartbeats        bigint NOT NULL DEFAULT 0,
        last_update_at    timestamptz,
        last_heartbeat_at timestamptz,
        last_status       text,
        last_node         text
      )`);

    await runner.query(`
      CREATE TABLE security_rejections (
        id          bigserial PRIMARY KEY,
        occurred_at timestamptz NOT NULL,
        node_id     text NOT NULL,
        reason      text NOT NULL,
        module      text,
        method      text NOT NULL,
        path        text NOT NULL,
        message     text NOT NULL
      )`);
    await runner.query(
      `CREATE INDEX security_rejections_occurred_at_idx ON security_rejections (occurred_at)`,
    );
    await runner.query(`
      CREATE TABLE security_counters (
        reason       text PRIMARY KEY,
        count        bigint NOT NULL,
        last_at      timestamptz NOT NULL,
        last_message text NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const table of [
      'security_counters',
      'security_rejections',
      'module_stats',
      'bucket_events',
      'nonces',
      'chain_entries',
    ]) {
      await runner.query(`DROP TABLE ${table}`);
    }
  }
}
