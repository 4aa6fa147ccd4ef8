import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { rawRequest, type RawAnswer } from './support/raw-http.js';
import { signed, tokenFor, updatePayload } from './support/requests.js';
import type { CoreHealthReport } from '../src/health/core-health.service.js';

const PER_ADDRESS = 5;
const PER_SUBJECT = 3;
const WINDOW_SECONDS = 60;

function expectRateLimited(answer: RawAnswer): void {
  expect(answer.status).toBe(429);
  expect(answer.body).toEqual({
    status: 'rejected',
    reason: 'rate_limited',
    message: expect.any(String),
  });
  const retryAfter = Number(answer.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
}

describe('rate limits (SPEC §4 "Limits")', () => {
  let db: TestDatabase;
  let keys: TestKeys;

  beforeAll(async () => {
    db = await createTestDatabase('rate_limits');
    keys = createTestKeys();
  });
  afterAll(() => db.drop());

  describe('behind a trusted proxy (TRUST_PROXY=loopback)', () => {
    let bridge: TestBridge;
    let addresses = 0;
    /** A client address no earlier request used, as the proxy reports it. */
    const freshAddress = () => `10.1.0.${(addresses += 1)}`;
    const call = (
      path: string,
      from: string,
      init: { token?: string; method?: string; body?: string } = {},
    ) =>
      rawRequest(`${bridge.baseUrl}${path}`, {
        method: init.method,
        body: init.body,
        headers: {
          'X-Forwarded-For': from,
          ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
          ...(init.body ? { 'Content-Type': 'application/json' } : {}),
        },
      });
    /** Read with a subject and address of its own, so that reading never counts against a test. */
    const health = async (): Promise<CoreHealthReport> => {
      const token = tokenFor(['admin'], { sub: `ops-${freshAddress()}` });
      const answer = await call('/core/health', freshAddress(), { token });
      expect(answer.status).toBe(200);
      return answer.body as unknown as CoreHealthReport;
    };
    const rateLimited = async () => (await health()).security!.rejected_by_reason.rate_limited ?? 0;

    beforeAll(async () => {
      bridge = await startTestBridge({
        databaseUrl: db.url,
        keysDir: keys.dir,
        env: {
          TRUST_PROXY: 'loopback',
          RATE_LIMIT_PER_ADDRESS: String(PER_ADDRESS),
          RATE_LIMIT_PER_SUBJECT: String(PER_SUBJECT),
          RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
        },
      });
    });
    afterAll(() => bridge.close());

    it('limits an address before its token is checked, and counts the refusals', async () => {
      const before = await rateLimited();
      const flooder = freshAddress();
      for (let i = 0; i < PER_ADDRESS; i += 1) {
        expect((await call('/bucket/status', flooder)).status).toBe(401);
      }
      // Over the limit the token is never looked at: no token, a valid one, all get 429.
      expectRateLimited(await call('/bucket/status', flooder));
      expectRateLimited(await call('/bucket/status', flooder, { token: tokenFor(['admin']) }));
      // Another address is not affected.
      expect((await call('/bucket/status', freshAddress())).status).toBe(401);
      expect(await rateLimited()).toBe(before + 2);
    });

    it('limits a token subject after the role check, before the body is read or signed', async () => {
      const before = await rateLimited();
      const token = tokenFor(['module'], { sub: 'module-a' });
      for (let i = 0; i < PER_SUBJECT; i += 1) {
        expect((await call('/bucket/status', freshAddress(), { token })).status).toBe(200);
      }
      // A role the route refuses is answered 403 first (the subject limit comes after step 2).
      expect((await call('/provenance/verify', freshAddress(), { token })).status).toBe(403);
      const length = (await health()).chain!.length;
      const update = JSON.stringify(signed(keys.privateKeyPem, updatePayload()));
      const refused = await call('/core/update', freshAddress(), {
        token,
        method: 'POST',
        body: update,
      });
      expectRateLimited(refused);
      expect((await health()).chain!.length).toBe(length);
      // Another subject, and a token without one, are not affected.
      const other = tokenFor(['module'], { sub: 'module-b' });
      expect((await call('/bucket/status', freshAddress(), { token: other })).status).toBe(200);
      const unbound = tokenFor(['automation']);
      expect((await call('/bucket/status', freshAddress(), { token: unbound })).status).toBe(200);
      expect(await rateLimited()).toBe(before + 1);
    });
  });

  describe('without TRUST_PROXY', () => {
    let bridge: TestBridge;

    beforeAll(async () => {
      bridge = await startTestBridge({
        databaseUrl: db.url,
        keysDir: keys.dir,
        env: { RATE_LIMIT_PER_ADDRESS: '3', RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS) },
      });
    });
    afterAll(() => bridge.close());

    it('counts the TCP peer, whatever X-Forwarded-For claims', async () => {
      const from = (localAddress: string, forwardedFor: string) =>
        rawRequest(`${bridge.baseUrl}/bucket/status`, {
          localAddress,
          headers: { 'X-Forwarded-For': forwardedFor },
        });
      for (let i = 0; i < 3; i += 1)
        expect((await from('127.0.0.2', `10.2.0.${i}`)).status).toBe(401);
      expectRateLimited(await from('127.0.0.2', '10.2.0.99'));
      expect((await from('127.0.0.3', '10.2.0.0')).status).toBe(401);
    });
  });
});
