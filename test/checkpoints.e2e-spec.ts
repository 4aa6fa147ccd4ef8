import { createPublicKey } from 'node:crypto';
import request from 'supertest';
import { ChainRepository } from '../src/provenance/chain.repository.js';
import { verifyCheckpoint } from '../src/provenance/checkpoint-note.js';
import { CheckpointRepository } from '../src/provenance/checkpoint.repository.js';
import { CheckpointService } from '../src/provenance/checkpoint.service.js';
import { MerkleRepository } from '../src/provenance/merkle.repository.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { runCompiledCli } from './support/chain-cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { heartbeatPayload, signed, tokenFor } from './support/requests.js';
import { buildService } from './support/server-process.js';

/** SPEC §5 signed checkpoints: the API, the published key, the schedule, several replicas. */
describe('signed checkpoints', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  const tokens = {
    module: tokenFor(['module']),
    automation: tokenFor(['automation']),
    admin: tokenFor(['admin']),
  };

  const api = () => request(bridge.app.getHttpServer());
  const get = (path: string, token: string | null = tokens.admin) => {
    const call = api().get(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };
  const signNow = (token = tokens.admin) =>
    api().post('/provenance/checkpoint').set('Authorization', `Bearer ${token}`);

  async function appendHeartbeats(count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const response = await api()
        .post('/core/heartbeat')
        .set('Content-Type', 'application/json')
        .set('Authorization', `Bearer ${tokens.module}`)
        .send(JSON.stringify(signed(keys.privateKeyPem, heartbeatPayload())));
      expect(response.status).toBe(201);
    }
  }

  /** A second service on the same database and key, as another replica with its own settings. */
  function replica(settings: {
    everyEntries: number;
    intervalMinutes: number;
    freshnessMs?: number;
  }) {
    return new CheckpointService(
      bridge.app.get(ChainRepository),
      bridge.app.get(CheckpointRepository),
      bridge.app.get(MerkleRepository),
      {
        ...bridge.config,
        checkpointEveryEntries: settings.everyEntries,
        checkpointIntervalMinutes: settings.intervalMinutes,
        checkpointFreshnessMs: settings.freshnessMs ?? 0,
      },
    );
  }

  beforeAll(async () => {
    buildService();
    db = await createTestDatabase('checkpoints');
    keys = createTestKeys();
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: {
        CHECKPOINT_ORIGIN: 'bridge.test/checkpoints',
        CHECKPOINT_EVERY_ENTRIES: '0',
        CHECKPOINT_INTERVAL_MINUTES: '0',
        CHECKPOINT_FRESHNESS_MS: '0',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await bridge?.close();
    await db?.drop();
  });

  it('has none to serve before the first is signed, and refuses to sign an empty chain', async () => {
    expect((await get('/provenance/checkpoint')).status).toBe(404);
    const empty = await signNow();
    expect(empty.status).toBe(409);
    expect(empty.body).toMatchObject({ status: 'rejected', reason: 'checkpoint_refused' });
    expect(empty.body.message).toContain('the chain is empty');
  });

  it('signs the head on demand (admin) and serves it to every role', async () => {
    await appendHeartbeats(2);
    const created = await signNow();
    expect(created.status).toBe(201);
    const status = await get('/bucket/status');
    expect(created.body).toEqual({
      origin: 'bridge.test/checkpoints',
      length: 2,
      root_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      head_hash: status.body.chain.head_hash,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      note: expect.stringMatching(
        /^bridge\.test\/checkpoints\n2\n[A-Za-z0-9+/]{43}=\n.+Z\nhead [0-9a-f]{64}\n\n— /,
      ),
      public_key: expect.stringContaining('BEGIN PUBLIC KEY'),
      verifier_key: expect.stringMatching(/^bridge\.test\/checkpoints\+[0-9a-f]{8}\+A/),
    });
    for (const token of Object.values(tokens)) {
      const latest = await get('/provenance/checkpoint', token);
      expect(latest.status).toBe(200);
      expect(latest.body).toEqual(created.body);
      expect((await get('/provenance/checkpoint/2', token)).body).toEqual(created.body);
    }
  });

  it('answers by length, 404 for a length never signed, 400 for a bad length', async () => {
    expect((await get('/provenance/checkpoint/2')).body.length).toBe(2);
    expect((await get('/provenance/checkpoint/1')).status).toBe(404);
    expect((await get('/provenance/checkpoint/two')).status).toBe(400);
  });

  it('lets only admins sign and only token holders read', async () => {
    expect((await signNow(tokens.module)).status).toBe(403);
    expect((await signNow(tokens.automation)).status).toBe(403);
    expect((await get('/provenance/checkpoint', null)).status).toBe(401);
    expect((await get('/provenance/checkpoint-key', null)).status).toBe(401);
    expect((await api().post('/provenance/checkpoint')).status).toBe(401);
  });

  it('verifies with the published public key, and not once any field changes', async () => {
    const { body: key } = await get('/provenance/checkpoint-key', tokens.module);
    const printed = await runCompiledCli('chain-verify', ['--print-checkpoint-key'], {
      NODE_ENV: 'test',
      KEYS_DIR: keys.dir,
    });
    expect(printed).toMatchObject({ code: 0, stdout: key.public_key });
    expect(key).toEqual({
      key_name: 'bridge.test/checkpoints',
      key_id: expect.stringMatching(/^[0-9a-f]{8}$/),
      public_key: expect.stringContaining('BEGIN PUBLIC KEY'),
      verifier_key: expect.stringMatching(
        /^bridge\.test\/checkpoints\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/,
      ),
      previous_keys: [],
    });

    expect(key.verifier_key.split('+')[1]).toBe(key.key_id);

    const { body: checkpoint } = await get('/provenance/checkpoint', tokens.automation);
    const publicKey = createPublicKey(key.public_key);
    expect(verifyCheckpoint(checkpoint.note, publicKey)).toEqual({
      origin: checkpoint.origin,
      length: checkpoint.length,
      rootHash: checkpoint.root_hash,
      headHash: checkpoint.head_hash,
      timestamp: checkpoint.timestamp,
    });
    const [origin, length, rootHash, timestamp] = checkpoint.note.split('\n');
    const alterations = [
      checkpoint.note.replace(`${origin}\n`, 'bridge.test/other\n'),
      checkpoint.note.replace(`\n${length}\n`, `\n${Number(length) + 1}\n`),
      checkpoint.note.replace(rootHash, Buffer.alloc(32, 7).toString('base64')),
      checkpoint.note.replace(timestamp, new Date(Date.parse(timestamp) + 1000).toISOString()),
      checkpoint.note.replace(`head ${checkpoint.head_hash}`, `head ${'0'.repeat(64)}`),
    ];
    for (const altered of alterations) {
      expect(altered).not.toBe(checkpoint.note);
      expect(() => verifyCheckpoint(altered, publicKey)).toThrow('does not verify');
    }
  });

  it('signs periodically every N entries, once across replicas', async () => {
    const byCount = replica({ everyEntries: 3, intervalMinutes: 0 });
    await appendHeartbeats(2);
    expect(await byCount.checkpointIfDue()).toBeUndefined();
    await appendHeartbeats(1);
    const results = await Promise.all([1, 2, 3].map(() => byCount.checkpointIfDue()));
    const signedNow = results.filter((result) => result !== undefined);
    // Replicas racing for the lock: one signs, the others skip or find it already signed.
    expect(signedNow.length).toBeGreaterThanOrEqual(1);
    expect(signedNow.every((result) => result!.length === 5)).toBe(true);
    expect(await db.query('SELECT length FROM checkpoints WHERE length = 5')).toHaveLength(1);
    expect(await byCount.checkpointIfDue()).toBeUndefined();
  });

  it('signs new entries once the interval has passed since the last checkpoint', async () => {
    const byTime = replica({ everyEntries: 0, intervalMinutes: 10 });
    await appendHeartbeats(1);
    const latest = (await get('/provenance/checkpoint')).body as { timestamp: string };
    const signedAt = Date.parse(latest.timestamp);
    expect(await byTime.checkpointIfDue(new Date(signedAt + 9 * 60_000))).toBeUndefined();
    const due = await byTime.checkpointIfDue(new Date(signedAt + 10 * 60_000));
    expect(due).toMatchObject({ length: 6 });
  });

  it('keeps one checkpoint per length when replicas sign on demand at once', async () => {
    await appendHeartbeats(1);
    const replicas = [
      replica({ everyEntries: 0, intervalMinutes: 0 }),
      replica({ everyEntries: 0, intervalMinutes: 0 }),
    ];
    const results = await Promise.all([...replicas, ...replicas].map((r) => r.checkpointNow()));
    expect(new Set(results.map((result) => result.note)).size).toBe(1);
    expect(results[0].length).toBe(7);
    expect(await db.query('SELECT length FROM checkpoints WHERE length = 7')).toHaveLength(1);
  });

  it('signs as soon as the chain grew when freshness is on, consistent with the last root', async () => {
    const fresh = replica({ everyEntries: 0, intervalMinutes: 0, freshnessMs: 1000 });
    expect(await fresh.checkpointIfDue()).toBeUndefined();
    await appendHeartbeats(1);
    const signedNow = await fresh.checkpointIfDue();
    expect(signedNow).toMatchObject({
      length: 8,
      root_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('refuses to sign once a stored tree node no longer matches the last signed root', async () => {
    await appendHeartbeats(1);
    // Rewrite the full subtree of leaves 0-7, which every root from size 8 on is built from: the
    // chain itself is intact, the tree is not.
    await db.query(`UPDATE merkle_nodes SET hash = sha256(hash) WHERE level = 3 AND idx = 0`);
    const response = await signNow();
    expect(response.status).toBe(409);
    expect(response.body.message).toContain('Merkle tree is not consistent');
  });

  it('finds a rewritten entry past the first slice of the walk before signing', async () => {
    // The last checkpoint is at length 8; the walk hashes the entries after it in slices of 200.
    await appendHeartbeats(450);
    await db.query(
      `UPDATE chain_entries SET signature = 'AAAA' || substr(signature, 5) WHERE sequence = 358`,
    );
    const response = await signNow();
    expect(response.status).toBe(409);
    expect(response.body.message).toContain(
      'does not extend the checkpoint at length 8 (hash_mismatch at sequence 358)',
    );
  });
});
