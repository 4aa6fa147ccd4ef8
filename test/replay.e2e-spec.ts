import request from 'supertest';
import { verifyChain } from '../src/provenance/chain-verifier.js';
import { ChainRepository } from '../src/provenance/chain.repository.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { signed, tokenFor, updatePayload } from './support/requests.js';
import type { SignedBody } from '../src/client/payload-signer.js';

describe('replay protection and chain continuity across instances', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let first: TestBridge;
  let second: TestBridge;
  const token = tokenFor(['module']);

  const post = (bridge: TestBridge, body: SignedBody) =>
    request(bridge.app.getHttpServer())
      .post('/core/update')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));

  /** Sends `bodies` with at most `parallel` requests in flight; returns the statuses in order. */
  async function sendAll(
    bridges: TestBridge[],
    bodies: SignedBody[],
    parallel = 32,
  ): Promise<number[]> {
    const statuses: number[] = new Array(bodies.length);
    let next = 0;
    const worker = async (lane: number) => {
      while (next < bodies.length) {
        const index = next++;
        statuses[index] = (
          await post(bridges[(index + lane) % bridges.length], bodies[index])
        ).status;
      }
    };
    await Promise.all(Array.from({ length: parallel }, (_, lane) => worker(lane)));
    return statuses;
  }

  beforeAll(async () => {
    db = await createTestDatabase('replay');
    keys = createTestKeys();
    // A tiny hot cache shows that the database, not the cache, is the bound.
    first = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: { NONCE_CACHE_SIZE: '100', NODE_ID: 'one' },
    });
    second = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: { NONCE_CACHE_SIZE: '100', NODE_ID: 'two' },
    });
  });

  afterAll(async () => {
    await first.close();
    await second.close();
    await db.drop();
  });

  it('refuses a replay after more than 5,000 later nonces, on the same and on another instance', async () => {
    const original = signed(keys.privateKeyPem, updatePayload());
    expect((await post(first, original)).status).toBe(201);
    const later = Array.from({ length: 5_001 }, () => signed(keys.privateKeyPem, updatePayload()));
    const statuses = await sendAll([first], later);
    expect(statuses.filter((status) => status === 201)).toHaveLength(5_001);

    const onFirst = await post(first, original);
    const onSecond = await post(second, original);
    expect([onFirst.status, onFirst.body.reason]).toEqual([409, 'replay_detected']);
    expect([onSecond.status, onSecond.body.reason]).toEqual([409, 'replay_detected']);
  });

  it('20 identical requests racing over two instances → exactly one 201, the rest 409', async () => {
    const body = signed(keys.privateKeyPem, updatePayload());
    const statuses = await sendAll(
      [first, second],
      Array.from({ length: 20 }, () => body),
      20,
    );
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
  });

  it('a nonce reused with a different signed payload → 409', async () => {
    const original = updatePayload();
    expect((await post(first, signed(keys.privateKeyPem, original))).status).toBe(201);
    const reused = signed(keys.privateKeyPem, { ...original, data: { temperature: -40 } });
    const response = await post(second, reused);
    expect([response.status, response.body.reason]).toEqual([409, 'replay_detected']);
  });

  it('two instances appending concurrently build one contiguous chain that verifies', async () => {
    const before = await first.app.get(ChainRepository).head();
    const bodies = Array.from({ length: 400 }, () => signed(keys.privateKeyPem, updatePayload()));
    const statuses = await sendAll([first, second], bodies, 48);
    expect(statuses.every((status) => status === 201)).toBe(true);

    const rows = await db.query<{ sequence: string }>(
      'SELECT sequence FROM chain_entries ORDER BY sequence',
    );
    expect(rows.map((row) => Number(row.sequence))).toEqual(
      Array.from({ length: before.length + 400 }, (_, i) => i + 1),
    );
    const verdict = await verifyChain(first.app.get(ChainRepository).streamFrom(1));
    expect(verdict).toEqual({
      valid: true,
      length: before.length + 400,
      head_hash: expect.any(String),
    });
  });
});
