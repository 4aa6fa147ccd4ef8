import { createHmac } from 'node:crypto';
import { Agent, get } from 'node:http';
import { connect } from 'node:net';
import request from 'supertest';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, setDatabaseReachable, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import {
  signed,
  TEST_ISSUER,
  TEST_JWT_SECRET,
  tokenFor,
  updatePayload,
} from './support/requests.js';

const admin = tokenFor(['admin']);
const rejected = (reason: string) => ({ status: 'rejected', reason, message: expect.any(String) });

/** A correctly signed HS256 token over exactly this header and claims text. */
function handMadeToken(claims: string, header: Record<string, unknown> = {}): string {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...header }));
  const input = `${head.toString('base64url')}.${Buffer.from(claims).toString('base64url')}`;
  return `${input}.${createHmac('sha256', TEST_JWT_SECRET).update(input).digest('base64url')}`;
}

/** Sends a raw request head (headers exactly as written) and returns the raw answer. */
function rawExchange(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (answer += text));
    socket.on('error', reject);
    socket.on('end', () => resolve(answer));
    socket.write(head);
  });
}

describe('answers at the edges: store down, odd paths and parameters, tokens, headers', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;

  beforeAll(async () => {
    db = await createTestDatabase('edge_answers');
    keys = createTestKeys();
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
    await request(bridge.baseUrl)
      .post('/core/update')
      .set('Authorization', `Bearer ${tokenFor(['module'])}`)
      .send(signed(keys.privateKeyPem, updatePayload()))
      .expect(201);
  });
  afterAll(async () => {
    await bridge.close();
    await db.drop();
  });

  describe('with the database unreachable', () => {
    beforeAll(() => setDatabaseReachable(db.name, false));
    afterAll(() => setDatabaseReachable(db.name, true));

    it.each([
      '/bucket/status',
      '/provenance/verify',
      '/provenance/export',
      '/provenance/entries/1',
      '/automation/runs',
      '/automation/jobs',
    ])('GET %s answers 503 store_unavailable as JSON', async (path) => {
      const answer = await request(bridge.baseUrl)
        .get(path)
        .set('Authorization', `Bearer ${admin}`);
      expect(answer.status).toBe(503);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.body).toEqual(rejected('store_unavailable'));
    });
  });

  it('answers GET /automation/runs?job=%00 400 invalid_parameter', async () => {
    const answer = await request(bridge.baseUrl)
      .get('/automation/runs?job=%00')
      .set('Authorization', `Bearer ${admin}`);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(rejected('invalid_parameter'));
  });

  it('answers a malformed path escape after the token check, in the SPEC body', async () => {
    const anonymous = await request(bridge.baseUrl).get('/provenance/entries/%');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual(rejected('missing_token'));
    const answer = await request(bridge.baseUrl)
      .get('/provenance/entries/%')
      .set('Authorization', `Bearer ${admin}`);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(rejected('invalid_parameter'));
  });

  describe('tokens', () => {
    const claims = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        iss: TEST_ISSUER,
        exp: Math.floor(Date.now() / 1000) + 60,
        roles: ['admin'],
        ...extra,
      });
    const status = (token: string) =>
      request(bridge.baseUrl).get('/bucket/status').set('Authorization', `Bearer ${token}`);

    it('accepts the hand-made control token', async () => {
      expect((await status(handMadeToken(claims()))).status).toBe(200);
    });

    it.each([
      ['a crit header', handMadeToken(claims(), { crit: ['exp'] })],
      ['claims that are an array', handMadeToken('["admin"]')],
      ['a non-numeric iat', handMadeToken(claims({ iat: 'now' }))],
      ['an infinite exp', handMadeToken(claims().replace(/"exp":\d+/, '"exp":1e400'))],
      ['a lifetime over the maximum', handMadeToken(claims({ iat: 1, exp: 4102444800 }))],
    ])('refuses %s as invalid_token', async (_what, token) => {
      const answer = await status(token);
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual(rejected('invalid_token'));
    });

    it('refuses a request with two Authorization headers', async () => {
      const port = Number(new URL(bridge.baseUrl).port);
      const answer = await rawExchange(
        port,
        `GET /bucket/status HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\n` +
          `Authorization: Bearer ${admin}\r\nAuthorization: Bearer ${tokenFor(['module'])}\r\n\r\n`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 401 /);
      expect(answer).toMatch(/"reason":"invalid_token"/);
    });
  });

  describe('headers', () => {
    it('sends nosniff everywhere and no-store on authenticated JSON', async () => {
      const authenticated = await request(bridge.baseUrl)
        .get('/bucket/status')
        .set('Authorization', `Bearer ${admin}`);
      expect(authenticated.headers['x-content-type-options']).toBe('nosniff');
      expect(authenticated.headers['cache-control']).toBe('no-store');
      const refused = await request(bridge.baseUrl).get('/bucket/status');
      expect(refused.headers['x-content-type-options']).toBe('nosniff');
      // A refusal of a request without a body leaves nothing unread: the connection may stay.
      const agent = new Agent({ keepAlive: true });
      const kept = await new Promise<string | undefined>((resolve, reject) =>
        get(`${bridge.baseUrl}/bucket/status`, { agent }, (answer) => {
          answer.resume();
          answer.on('end', () => resolve(answer.headers.connection));
        }).on('error', reject),
      );
      agent.destroy();
      expect(kept).toBe('keep-alive');
      const probe = await request(bridge.baseUrl).get('/health/live');
      expect(probe.headers['x-content-type-options']).toBe('nosniff');
    });
  });
});
