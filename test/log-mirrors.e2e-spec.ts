import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { NonceJanitor } from '../src/security/nonce-janitor.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { heartbeatPayload, signed, tokenFor, updatePayload } from './support/requests.js';

describe('log mirrors and nonce pruning', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let logDir: string;

  const post = (path: string, body: unknown) =>
    request(bridge.app.getHttpServer())
      .post(path)
      .set('Authorization', `Bearer ${tokenFor(['module'])}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));

  beforeAll(async () => {
    db = await createTestDatabase('mirrors');
    keys = createTestKeys();
    logDir = mkdtempSync(join(tmpdir(), 'bridge-logs-'));
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: { LOG_DIR: logDir },
    });
  });

  afterAll(async () => {
    await db.drop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('mirrors accepted updates, heartbeats, chain entries and rejections into LOG_DIR', async () => {
    const update = await post(
      '/core/update',
      signed(keys.privateKeyPem, updatePayload({ module: 'module-m' })),
    );
    const heartbeat = await post(
      '/core/heartbeat',
      signed(keys.privateKeyPem, heartbeatPayload({ node: 'node-009' })),
    );
    const stale = updatePayload({ timestamp: '2020-01-01T00:00:00Z' });
    await post('/core/update', signed(keys.privateKeyPem, stale));
    expect([update.status, heartbeat.status]).toEqual([201, 201]);
    await bridge.close(); // closes the mirror files

    const lines = (file: string) =>
      readFileSync(join(logDir, file), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines('core_sync.log')).toEqual([
      expect.objectContaining({ module: 'module-m', sequence: update.body.sequence }),
    ]);
    expect(lines('heartbeat.log')).toEqual([
      expect.objectContaining({
        sequence: heartbeat.body.sequence,
        status: 'alive',
        node: 'node-009',
      }),
    ]);
    expect(lines('provenance_chain.jsonl').map((entry) => entry.hash)).toEqual([
      update.body.hash,
      heartbeat.body.hash,
    ]);
    expect(lines('security_rejects.log')).toEqual([
      expect.objectContaining({ reason: 'stale_timestamp', status: 401 }),
    ]);
  });

  it('prunes only nonces whose timestamps can no longer pass the freshness check', async () => {
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
    await db.query(
      `INSERT INTO nonces (nonce, module, expires_at) VALUES
         ('expired-nonce-000000', 'module-m', now() - interval '1 second'),
         ('current-nonce-000000', 'module-m', now() + interval '1 hour')`,
    );
    await bridge.app.get(NonceJanitor).prune();
    const rows = await db.query<{ nonce: string }>(
      `SELECT nonce FROM nonces WHERE nonce IN ('expired-nonce-000000', 'current-nonce-000000')`,
    );
    expect(rows.map((row) => row.nonce)).toEqual(['current-nonce-000000']);
    await bridge.close();
  });
});
