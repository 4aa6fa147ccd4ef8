import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { chainHash } from '../src/provenance/chain-hash.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { runCompiledCli, type CliResult } from './support/chain-cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { heartbeatPayload, signed, tokenFor, updatePayload } from './support/requests.js';
import { buildService } from './support/server-process.js';
import { VECTORS_DIR } from './support/vectors.js';

/** SPEC §5: tampering found in the database and offline, and a rewrite caught by a checkpoint. */
describe('chain audit: verify, export, checkpoints', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let workDir: string;
  const adminToken = tokenFor(['admin']);

  const api = () => request(bridge.app.getHttpServer());
  const cli = (name: 'chain-verify' | 'chain-export', ...args: string[]): Promise<CliResult> =>
    runCompiledCli(name, args, {
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      KEYS_DIR: keys.dir,
      LOG_DIR: 'none',
    });
  const file = (name: string) => join(workDir, name);

  /** The first line `chain:verify` prints about the chain itself. */
  const chainLine = (result: CliResult) => result.stdout.split('\n')[0];

  async function apiVerdict() {
    const response = await api()
      .get('/provenance/verify')
      .set('Authorization', `Bearer ${adminToken}`);
    expect(response.status).toBe(200);
    return response.body as Record<string, unknown>;
  }

  /** Exports with the CLI, then verifies that file offline. */
  async function verifyExportOffline(name: string, ...args: string[]): Promise<CliResult> {
    const exported = await cli('chain-export', '--out', file(name));
    expect(exported.code).toBe(0);
    return cli('chain-verify', '--file', file(name), ...args);
  }

  beforeAll(async () => {
    buildService();
    workDir = mkdtempSync(join(tmpdir(), 'chain-audit-'));
    db = await createTestDatabase('chain_audit');
    keys = createTestKeys();
    // Periodic checkpoints off: this suite signs them on demand only.
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: {
        CHECKPOINT_EVERY_ENTRIES: '0',
        CHECKPOINT_INTERVAL_MINUTES: '0',
        CHECKPOINT_FRESHNESS_MS: '0',
      },
    });
    const payloads = [
      ['/core/update', updatePayload({ module: 'module-a', data: { temperature: 21.5 } })],
      ['/core/heartbeat', heartbeatPayload({ module: 'module-a', node: 'node-001' })],
      ['/core/update', updatePayload({ module: 'module-b', data: { text: 'café ✓', n: 3 } })],
      ['/core/update', updatePayload({ module: 'module-a', data: { temperature: 22.25 } })],
      ['/core/heartbeat', heartbeatPayload({ module: 'module-b', status: 'degraded' })],
      ['/core/update', updatePayload({ module: 'module-a', data: { z: 1, a: [true, null] } })],
    ] as const;
    for (const [path, payload] of payloads) {
      const response = await api()
        .post(path)
        .set('Content-Type', 'application/json')
        .set('Authorization', `Bearer ${tokenFor(['module'])}`)
        .send(JSON.stringify(signed(keys.privateKeyPem, payload)));
      expect(response.status).toBe(201);
    }
    await db.query('CREATE TABLE pristine_chain AS SELECT * FROM chain_entries');
    await db.query('CREATE TABLE pristine_bucket AS SELECT * FROM bucket_events');
  }, 180_000);

  afterAll(async () => {
    await bridge?.close();
    await db?.drop();
  });

  afterEach(async () => {
    await db.query(`BEGIN;
      DELETE FROM checkpoints; DELETE FROM bucket_events; DELETE FROM chain_entries;
      DELETE FROM merkle_nodes; -- the re-insert below rebuilds it (the append trigger)
      INSERT INTO chain_entries SELECT * FROM pristine_chain;
      INSERT INTO bucket_events SELECT * FROM pristine_bucket;
      COMMIT`);
  });

  describe('an untouched chain', () => {
    it('verifies in the database, through the API and offline, with the same head', async () => {
      const verdict = await apiVerdict();
      expect(verdict).toEqual({ valid: true, length: 6, head_hash: expect.any(String) });
      const expected = `chain valid: 6 entries, head ${verdict.head_hash as string}`;

      const inDatabase = await cli('chain-verify');
      expect(inDatabase.code).toBe(0);
      expect(chainLine(inDatabase)).toBe(expected);
      expect(inDatabase.stderr).toMatch(/verified 6 entries in [\d.]+ s \(\d+ entries\/s\)/);
      expect((await cli('chain-verify', '--jobs', '4')).stdout).toBe(inDatabase.stdout);

      const offline = await verifyExportOffline('pristine.jsonl', '--keys', keys.dir);
      expect(offline.code).toBe(0);
      expect(offline.stdout).toBe(`${expected}\nsignatures: 6 checked, all valid\n`);
    });

    it('exports exactly what GET /provenance/export streams, from any sequence', async () => {
      const whole = await api()
        .get('/provenance/export')
        .set('Authorization', `Bearer ${adminToken}`);
      expect(await cli('chain-export', '--out', file('whole.jsonl'))).toMatchObject({ code: 0 });
      expect(readFileSync(file('whole.jsonl'), 'utf8')).toBe(whole.text);

      const tail = await cli('chain-export', '--out', '-', '--from', '5');
      expect(tail.code).toBe(0);
      expect(tail.stdout).toBe(whole.text.split('\n').slice(4).join('\n'));
      expect(tail.stdout.split('\n').filter(Boolean)).toHaveLength(2);
    });
  });

  describe('tampering in the database is found with its sequence and reason', () => {
    it.each([
      {
        change: 'a changed payload',
        sql: `UPDATE chain_entries SET payload = replace(payload::text, '22.25', '99.25')::json WHERE sequence = 4`,
        sequence: 4,
        reason: 'hash_mismatch',
      },
      {
        change: 'a changed signature',
        sql: `UPDATE chain_entries SET signature = 'AAAA' || substr(signature, 5) WHERE sequence = 3`,
        sequence: 3,
        reason: 'hash_mismatch',
      },
      {
        change: 'a deleted row',
        sql: `DELETE FROM bucket_events WHERE sequence = 3; DELETE FROM chain_entries WHERE sequence = 3`,
        sequence: 3,
        reason: 'gap',
      },
      {
        change: 'two rows swapped',
        sql: `UPDATE chain_entries a SET entry_timestamp = b.entry_timestamp, type = b.type,
                module = b.module, payload = b.payload, signature = b.signature,
                previous_hash = b.previous_hash, hash = b.hash
              FROM chain_entries b WHERE (a.sequence, b.sequence) IN ((4, 5), (5, 4))`,
        sequence: 4,
        reason: 'broken_link',
      },
      {
        change: 'an altered previous_hash',
        sql: `UPDATE chain_entries SET previous_hash = (SELECT hash FROM chain_entries WHERE sequence = 3)
              WHERE sequence = 5`,
        sequence: 5,
        reason: 'broken_link',
      },
    ])('$change → $reason at sequence $sequence', async ({ sql, sequence, reason }) => {
      await db.query(sql);
      expect(await apiVerdict()).toEqual({
        valid: false,
        length: reason === 'gap' ? 5 : 6,
        first_invalid_sequence: sequence,
        reason,
      });
      const expected = `chain BROKEN at sequence ${sequence}: ${reason}`;

      const inDatabase = await cli('chain-verify');
      expect(inDatabase.code).toBe(1);
      expect(chainLine(inDatabase)).toBe(expected);
      // Three slices of two entries on their own threads: the joints fall at sequences 3 and 5.
      const inSlices = await cli('chain-verify', '--jobs', '3');
      expect(inSlices.code).toBe(1);
      expect(inSlices.stdout).toBe(inDatabase.stdout);

      const offline = await verifyExportOffline(`tampered-${sequence}-${reason}.jsonl`);
      expect(offline.code).toBe(1);
      expect(chainLine(offline)).toBe(expected);
      expect(offline.stdout).toBe(inDatabase.stdout);
    });

    it('a changed signature with the hashes recomputed passes the chain but not --keys', async () => {
      await rewriteFrom(3, (row, sequence) =>
        sequence === 3 ? { ...row, signature: `AAAA${row.signature.slice(4)}` } : row,
      );
      const result = await cli('chain-verify', '--keys', keys.dir);
      expect(result.code).toBe(1);
      expect(chainLine(result)).toMatch(/^chain valid: 6 entries/);
      expect(result.stdout).toContain(
        'signatures: 1 of 6 INVALID; first at sequence 3 (module-b): does not verify with public.pem',
      );
    });
  });

  describe('a rewrite that recomputes every later hash', () => {
    it('passes plain verification but fails against a checkpoint taken before it', async () => {
      const signedBefore = await api()
        .post('/provenance/checkpoint')
        .set('Authorization', `Bearer ${adminToken}`);
      expect(signedBefore.status).toBe(201);
      expect(signedBefore.body.length).toBe(6);
      writeFileSync(file('checkpoint-6.txt'), signedBefore.body.note);
      const held = await cli('chain-verify', '--checkpoint', file('checkpoint-6.txt'));
      expect(held.code).toBe(0);
      expect(held.stdout).toContain('length 6');
      expect(held.stdout).toContain('consistent, the chain has the signed head at this length');

      await rewriteFrom(2, (row, sequence) =>
        sequence === 2 ? { ...row, payload: row.payload.replace('"node-001"', '"node-666"') } : row,
      );

      expect(await apiVerdict()).toMatchObject({ valid: true, length: 6 });
      expect(await cli('chain-verify')).toMatchObject({ code: 0 });
      expect((await verifyExportOffline('rewritten.jsonl')).code).toBe(0);

      const inDatabase = await cli('chain-verify', '--checkpoint', file('checkpoint-6.txt'));
      expect(inDatabase.code).toBe(1);
      expect(chainLine(inDatabase)).toMatch(/^chain valid: 6 entries/);
      expect(inDatabase.stdout).toContain(
        `INCONSISTENT: entry 6 has hash ${(await apiVerdict()).head_hash as string}, ` +
          `the checkpoint signed ${signedBefore.body.head_hash}; history up to sequence 6 was rewritten`,
      );
      const offline = await cli(
        'chain-verify',
        '--file',
        file('rewritten.jsonl'),
        '--checkpoint',
        file('checkpoint-6.txt'),
      );
      expect(offline.code).toBe(1);
      expect(offline.stdout).toBe(inDatabase.stdout);

      // The service itself refuses to sign a head that does not extend its last checkpoint.
      const refused = await api()
        .post('/provenance/checkpoint')
        .set('Authorization', `Bearer ${adminToken}`);
      expect(refused.status).toBe(409);
      expect(refused.body.message).toContain('does not extend the checkpoint at length 6');
    });

    it('a checkpoint of a longer chain than the database holds reports the removed entries', async () => {
      const checkpoint = await api()
        .post('/provenance/checkpoint')
        .set('Authorization', `Bearer ${adminToken}`);
      writeFileSync(file('checkpoint-json.json'), JSON.stringify(checkpoint.body));
      await db.query(
        'DELETE FROM bucket_events WHERE sequence = 6; DELETE FROM chain_entries WHERE sequence = 6',
      );
      const result = await cli('chain-verify', '--checkpoint', file('checkpoint-json.json'));
      expect(result.code).toBe(1);
      expect(chainLine(result)).toMatch(/^chain valid: 5 entries/);
      expect(result.stdout).toContain(
        'INCONSISTENT: the chain has no entry 6 (5 entries); entries the checkpoint covers were removed',
      );
    });

    it('a checkpoint that does not verify with the checkpoint key is refused', async () => {
      const checkpoint = await api()
        .post('/provenance/checkpoint')
        .set('Authorization', `Bearer ${adminToken}`);
      writeFileSync(file('forged.txt'), checkpoint.body.note.replace('\n6\n', '\n5\n'));
      const result = await cli('chain-verify', '--checkpoint', file('forged.txt'));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('does not verify');
    });
    it('a note saved with a trailing newline (jq -r .note) still verifies', async () => {
      const { note } = JSON.parse(readFileSync(file('checkpoint-json.json'), 'utf8')) as {
        note: string;
      };
      writeFileSync(file('jq-r.txt'), `${note}\n`);
      const result = await cli('chain-verify', '--checkpoint', file('jq-r.txt'));
      expect(result.stderr).not.toContain('verify:');
      expect(result.stdout).toContain(
        `checkpoint ${file('jq-r.txt')} (core-bucket-bridge, length 6`,
      );
    });

    it('a file that is not a signed note is called malformed, not unverified', async () => {
      writeFileSync(file('not-a-note.txt'), 'core-bucket-bridge\n6\n');
      const result = await cli('chain-verify', '--checkpoint', file('not-a-note.txt'));
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `checkpoint ${file('not-a-note.txt')} is not a well-formed signed note: not a signed note`,
      );
      expect(result.stderr).not.toContain('does not verify');
    });
  });

  describe('offline, on the independent vectors', () => {
    const vectorChain = join(VECTORS_DIR, 'chain.jsonl');

    it('accepts ../shared/vectors/chain.jsonl, signatures included', async () => {
      const vectorKeys = mkdtempSync(join(tmpdir(), 'vector-keys-'));
      copyFileSync(join(VECTORS_DIR, 'test-public.pem'), join(vectorKeys, 'public.pem'));
      const result = await cli('chain-verify', '--file', vectorChain, '--keys', vectorKeys);
      expect(result).toMatchObject({ code: 0, stderr: expect.stringContaining('verified 3') });
      expect(result.stdout).toBe(
        'chain valid: 3 entries, head e7e13fcd68bdc66635cef5674c7ba3f24e18e0be30950a5a40cba53fa4ad0485\n' +
          'signatures: 3 checked, all valid\n',
      );
    });

    it('finds a tampered copy of it', async () => {
      const original = readFileSync(vectorChain, 'utf8');
      const tampered = original.replace('"status":"alive"', '"status":"stopping"');
      expect(tampered).not.toBe(original);
      writeFileSync(file('vectors-tampered.jsonl'), tampered);
      const result = await cli('chain-verify', '--file', file('vectors-tampered.jsonl'));
      expect(result.code).toBe(1);
      expect(chainLine(result)).toBe('chain BROKEN at sequence 2: hash_mismatch');
    });

    it('names the line that is not an entry, and tells usage errors apart', async () => {
      const lines = readFileSync(vectorChain, 'utf8').split('\n');
      writeFileSync(
        file('vectors-cut.jsonl'),
        [lines[0], lines[1].slice(0, 40), lines[2]].join('\n'),
      );
      const malformed = await cli('chain-verify', '--file', file('vectors-cut.jsonl'));
      expect(malformed.code).toBe(1);
      expect(malformed.stderr).toContain('vectors-cut.jsonl line 2: not valid JSON');

      expect((await cli('chain-verify', '--file', file('missing.jsonl'))).code).toBe(2);
      expect((await cli('chain-verify', '--frobnicate')).code).toBe(2);
      expect((await cli('chain-verify', '--jobs', '0')).stderr).toContain(
        '--jobs must be a whole number from 1 to 64',
      );
      const jobsOffline = await cli('chain-verify', '--jobs', '2', '--file', vectorChain);
      expect(jobsOffline.code).toBe(2);
      expect(jobsOffline.stderr).toContain('--jobs applies to the walk of the database');
      expect((await cli('chain-export')).code).toBe(2);
      expect((await cli('chain-export', '--out', file('x'), '--from', '0')).code).toBe(2);
    });
  });

  /** Replaces rows from `fromSequence` on and recomputes every later hash, as a forger would. */
  async function rewriteFrom(
    fromSequence: number,
    change: (row: RewrittenRow, sequence: number) => RewrittenRow,
  ): Promise<void> {
    const rows = await db.query<RewrittenRow & { sequence: string; previous_hash: string }>(
      `SELECT sequence, entry_timestamp, type, module, payload::text AS payload, signature,
         previous_hash FROM chain_entries WHERE sequence >= $1 ORDER BY sequence`,
      [fromSequence],
    );
    let previousHash = rows[0].previous_hash;
    for (const original of rows) {
      const sequence = Number(original.sequence);
      const row = change(original, sequence);
      const hash = chainHash(
        previousHash,
        {
          type: row.type,
          module: row.module,
          canonicalPayload: row.payload,
          signature: row.signature,
        },
        row.entry_timestamp,
      );
      await db.query(
        `UPDATE chain_entries SET payload = $2::json, signature = $3, previous_hash = $4, hash = $5
         WHERE sequence = $1`,
        [sequence, row.payload, row.signature, previousHash, hash],
      );
      previousHash = hash;
    }
  }
});

interface RewrittenRow {
  entry_timestamp: string;
  type: 'update' | 'heartbeat';
  module: string;
  payload: string;
  signature: string;
}
