import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import jsonwebtoken from 'jsonwebtoken';
import { canonicalJson } from '../src/common/canonical-json.js';
import { chainHash, GENESIS_HASH } from '../src/provenance/chain-hash.js';
import { SecurityAudit } from '../src/security/security-audit.service.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, setDatabaseReachable, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import {
  heartbeatPayload,
  newNonce,
  signed,
  TEST_JWT_SECRET,
  tokenFor,
  updatePayload,
} from './support/requests.js';

describe('signed ingestion (SPEC §4, every row)', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let moduleZKey: string;
  const moduleToken = tokenFor(['module']);

  const post = (path: string, body: unknown, token: string | null = moduleToken) => {
    const call = request(bridge.app.getHttpServer())
      .post(path)
      .set('Content-Type', 'application/json');
    if (token) call.set('Authorization', `Bearer ${token}`);
    return call.send(typeof body === 'string' ? body : JSON.stringify(body));
  };
  const expectRejection = (response: request.Response, status: number, reason: string) => {
    expect({ status: response.status, reason: response.body.reason }).toEqual({ status, reason });
    expect(response.body).toEqual({ status: 'rejected', reason, message: expect.any(String) });
  };

  beforeAll(async () => {
    db = await createTestDatabase('ingestion');
    keys = createTestKeys();
    const moduleZ = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(join(keys.dir, 'modules', 'module-z.pem'), moduleZ.publicKey);
    moduleZKey = moduleZ.privateKey;
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
  });

  afterAll(async () => {
    await bridge.close();
    await db.drop();
  });

  describe('accepted', () => {
    it('answers 201 with the chain entry, whose hash follows the SPEC §5 formula', async () => {
      const body = signed(
        keys.privateKeyPem,
        updatePayload({ data: { text: 'café ✓', nested: { z: 1, a: [true, null] } } }),
      );
      const response = await post('/core/update', body);
      expect(response.status).toBe(201);
      expect(response.body).toEqual({
        status: 'accepted',
        sequence: expect.any(Number),
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        previous_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        received_at: expect.any(String),
      });
      const [row] = await db.query(
        'SELECT sequence, previous_hash FROM chain_entries WHERE hash = $1',
        [response.body.hash],
      );
      expect(Number(row.sequence)).toBe(response.body.sequence);
      const content = {
        type: 'update' as const,
        module: 'module-a',
        canonicalPayload: canonicalJson(body.payload),
        signature: body.signature,
      };
      expect(chainHash(response.body.previous_hash, content, response.body.received_at)).toBe(
        response.body.hash,
      );
    });

    it('stores heartbeats and keeps every signed field of the payload', async () => {
      const payload = {
        ...heartbeatPayload({ node: 'node-007', status: 'degraded' }),
        metrics: { cpu: 0.5 },
        extra: 'kept',
      };
      const response = await post('/core/heartbeat', signed(keys.privateKeyPem, payload));
      expect(response.status).toBe(201);
      const [entry] = await db.query(
        'SELECT payload::text AS payload FROM chain_entries WHERE sequence = $1',
        [response.body.sequence],
      );
      expect(JSON.parse(entry.payload)).toEqual(payload);
      const [event] = await db.query(
        'SELECT type, node, status FROM bucket_events WHERE sequence = $1',
        [response.body.sequence],
      );
      expect(event).toEqual({ type: 'heartbeat', node: 'node-007', status: 'degraded' });
    });

    it('accepts a base64url signature', async () => {
      const body = signed(keys.privateKeyPem, updatePayload());
      const base64url = body.signature.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      expect((await post('/core/update', { ...body, signature: base64url })).status).toBe(201);
    });

    it('verifies a module with its own key from keys/modules/<module>.pem, and only with that key', async () => {
      const payload = updatePayload({ module: 'module-z' });
      expectRejection(
        await post('/core/update', signed(keys.privateKeyPem, payload)),
        401,
        'invalid_signature',
      );
      expect(
        (await post('/core/update', signed(moduleZKey, { ...payload, nonce: newNonce() }))).status,
      ).toBe(201);
    });

    it('accepts a token written exactly as the seed Python example does (no sub, fractional exp)', async () => {
      const token = jsonwebtoken.sign(
        { iss: 'core-bucket-bridge', exp: Date.now() / 1000 + 60.5, roles: ['module'] },
        TEST_JWT_SECRET,
      );
      expect(
        (await post('/core/update', signed(keys.privateKeyPem, updatePayload()), token)).status,
      ).toBe(201);
    });
  });

  describe('step 1: token', () => {
    const body = () => signed(keys.privateKeyPem, updatePayload());

    it.each([
      ['no Authorization header', undefined, 'missing_token'],
      ['a header that is not Bearer', 'Basic abc', 'invalid_token'],
      ['garbage', 'Bearer not.a.jwt', 'invalid_token'],
      [
        'a token signed with another secret',
        `Bearer ${tokenFor(['module'], { secret: 'another-secret-another-secret-0000' })}`,
        'invalid_token',
      ],
      ['an expired token', `Bearer ${tokenFor(['module'], { ttlSeconds: -10 })}`, 'token_expired'],
      [
        'a token of another issuer',
        `Bearer ${tokenFor(['module'], { issuer: 'someone-else' })}`,
        'invalid_issuer',
      ],
    ])('%s → 401', async (_name, header, reason) => {
      const call = request(bridge.app.getHttpServer())
        .post('/core/update')
        .set('Content-Type', 'application/json');
      if (header) call.set('Authorization', header);
      expectRejection(await call.send(JSON.stringify(body())), 401, reason);
    });

    it.each([
      ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
      ['HS512', () => jsonwebtoken.sign(claims(), TEST_JWT_SECRET, { algorithm: 'HS512' })],
      [
        'no exp',
        () => jsonwebtoken.sign({ iss: 'core-bucket-bridge', roles: ['module'] }, TEST_JWT_SECRET),
      ],
      [
        'nbf in the future',
        () => jsonwebtoken.sign({ ...claims(), nbf: Date.now() / 1000 + 600 }, TEST_JWT_SECRET),
      ],
      [
        'iat far in the future',
        () =>
          jsonwebtoken.sign(
            { ...claims(), iat: Math.floor(Date.now() / 1000) + 3600 },
            TEST_JWT_SECRET,
          ),
      ],
      [
        'an unknown role',
        () => jsonwebtoken.sign({ ...claims(), roles: ['root'] }, TEST_JWT_SECRET),
      ],
      [
        'roles not an array',
        () => jsonwebtoken.sign({ ...claims(), roles: 'module' }, TEST_JWT_SECRET),
      ],
    ])('%s → 401 invalid_token', async (_name, makeToken) => {
      expectRejection(await post('/core/update', body(), makeToken()), 401, 'invalid_token');
    });

    it('checks the token before reading the body: no token and an oversized body → 401, not 413', async () => {
      expectRejection(
        await post('/core/update', 'x'.repeat(300 * 1024), null),
        401,
        'missing_token',
      );
    });
  });

  describe('step 2: role', () => {
    it('an automation token may not post updates → 403 forbidden_role, before the body is checked', async () => {
      expectRejection(
        await post('/core/update', '{not json', tokenFor(['automation'])),
        403,
        'forbidden_role',
      );
    });
  });

  describe('step 3: body shape', () => {
    const valid = () => signed(keys.privateKeyPem, updatePayload());

    it.each([
      ['invalid JSON', () => '{"payload":'],
      ['a JSON array', () => '[]'],
      ['no signature', () => ({ payload: valid().payload })],
      ['no payload', () => ({ signature: valid().signature })],
      [
        'a module with a slash',
        () => ({ ...valid(), payload: { ...valid().payload, module: 'a/b' } }),
      ],
      [
        'a module of 65 characters',
        () => ({ ...valid(), payload: { ...valid().payload, module: 'm'.repeat(65) } }),
      ],
      [
        'a nonce of 15 characters',
        () => ({ ...valid(), payload: { ...valid().payload, nonce: 'n'.repeat(15) } }),
      ],
      [
        'a nonce with a dot',
        () => ({ ...valid(), payload: { ...valid().payload, nonce: 'abcdefgh.ijklmnop' } }),
      ],
      [
        'a timestamp without a zone',
        () => ({ ...valid(), payload: { ...valid().payload, timestamp: '2026-11-26T10:00:00' } }),
      ],
      [
        'an impossible date',
        () => ({ ...valid(), payload: { ...valid().payload, timestamp: '2026-13-45T10:00:00Z' } }),
      ],
      [
        'data that is not an object',
        () => ({ ...valid(), payload: { ...valid().payload, data: [1, 2] } }),
      ],
      ['a signature that is not base64', () => ({ ...valid(), signature: 'not base64!' })],
      [
        'a number too large to canonicalize',
        () => JSON.stringify(valid()).replace('"temperature":21.5', '"temperature":1e400'),
      ],
    ])('%s → 400 malformed_request', async (_name, makeBody) => {
      expectRejection(await post('/core/update', makeBody()), 400, 'malformed_request');
    });

    it('a heartbeat with an unknown status → 400', async () => {
      const body = signed(keys.privateKeyPem, heartbeatPayload({ status: 'sleeping' }));
      expectRejection(await post('/core/heartbeat', body), 400, 'malformed_request');
    });

    it('a body that is not application/json → 400', async () => {
      const response = await request(bridge.app.getHttpServer())
        .post('/core/update')
        .set('Authorization', `Bearer ${moduleToken}`)
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify(valid()));
      expectRejection(response, 400, 'malformed_request');
    });

    it('a body over 256 KiB → 413 payload_too_large', async () => {
      const body = signed(
        keys.privateKeyPem,
        updatePayload({ data: { blob: 'x'.repeat(300 * 1024) } }),
      );
      expectRejection(await post('/core/update', body), 413, 'payload_too_large');
    });
  });

  describe('step 4: signature', () => {
    it('a payload changed after signing → 401 invalid_signature', async () => {
      const body = signed(keys.privateKeyPem, updatePayload());
      expectRejection(
        await post('/core/update', {
          ...body,
          payload: { ...body.payload, data: { temperature: 99 } },
        }),
        401,
        'invalid_signature',
      );
    });

    it('a signature over Python json.dumps text names the number whose RFC 8785 form differs', async () => {
      const payload = updatePayload();
      const pythonText = JSON.stringify(payload).replace(
        /"data":\{[^}]*\}/,
        '"data":{"level":3,"pressure":1e-07,"temperature":21.0}',
      );
      const signature = sign('sha256', Buffer.from(pythonText), keys.privateKeyPem).toString(
        'base64',
      );
      const body = `{"payload":${pythonText},"signature":"${signature}"}`;
      const response = await post('/core/update', body);
      expectRejection(response, 401, 'invalid_signature');
      expect(response.body.message).toBe(
        'Signature does not verify for this module; note: the payload has numbers such as 1e-07 ' +
          'whose RFC 8785 form is 1e-7: sign the RFC 8785 text (docs/wire-format.md)',
      );
    });

    it('a wrong signature over canonical numbers says only that it does not verify', async () => {
      const body = signed(keys.privateKeyPem, updatePayload({ data: { temperature: 21.5 } }));
      const response = await post('/core/update', {
        ...body,
        payload: { ...body.payload, data: { temperature: 21 } },
      });
      expect(response.body.message).toBe('Signature does not verify for this module');
    });

    it('is checked before the module binding', async () => {
      const body = signed(keys.privateKeyPem, updatePayload({ module: 'module-a' }));
      const token = tokenFor(['module'], { sub: 'module-b' });
      expectRejection(
        await post('/core/update', { ...body, signature: body.signature.slice(4) }, token),
        401,
        'invalid_signature',
      );
    });
  });

  describe('step 5: module binding', () => {
    it('a module token with sub may write only as that module → 403 module_mismatch', async () => {
      const token = tokenFor(['module'], { sub: 'module-b' });
      expectRejection(
        await post(
          '/core/update',
          signed(keys.privateKeyPem, updatePayload({ module: 'module-a' })),
          token,
        ),
        403,
        'module_mismatch',
      );
      expect(
        (
          await post(
            '/core/update',
            signed(keys.privateKeyPem, updatePayload({ module: 'module-b' })),
            token,
          )
        ).status,
      ).toBe(201);
    });
  });

  describe('step 6: freshness', () => {
    it.each([
      ['10 minutes old', -600_000],
      ['10 minutes ahead', 600_000],
    ])('a timestamp %s → 401 stale_timestamp', async (_name, offsetMs) => {
      const timestamp = new Date(Date.now() + offsetMs).toISOString();
      expectRejection(
        await post('/core/update', signed(keys.privateKeyPem, updatePayload({ timestamp }))),
        401,
        'stale_timestamp',
      );
    });

    it('a stale timestamp is refused before its nonce is looked at', async () => {
      const body = signed(keys.privateKeyPem, updatePayload());
      expect((await post('/core/update', body)).status).toBe(201);
      const stale = signed(keys.privateKeyPem, {
        ...body.payload,
        timestamp: new Date(Date.now() - 600_000).toISOString(),
      });
      expectRejection(await post('/core/update', stale), 401, 'stale_timestamp');
    });
  });

  describe('step 7: replay', () => {
    it('the same request twice → 201 then 409 replay_detected', async () => {
      const body = signed(keys.privateKeyPem, updatePayload());
      expect((await post('/core/update', body)).status).toBe(201);
      expectRejection(await post('/core/update', body), 409, 'replay_detected');
    });
  });

  describe('rejections are counted cluster-wide and logged in the database', () => {
    it('adds each rejection to its reason counter and the security log', async () => {
      await bridge.app.get(SecurityAudit).flush();
      const before = await counters();
      await post('/core/update', {}, null);
      await post(
        '/core/update',
        signed(keys.privateKeyPem, updatePayload({ timestamp: '2020-01-01T00:00:00Z' })),
      );
      await post(
        '/core/update',
        signed(keys.privateKeyPem, updatePayload({ timestamp: '2020-01-01T00:00:00Z' })),
      );
      await bridge.app.get(SecurityAudit).flush();
      const after = await counters();
      expect((after.missing_token ?? 0) - (before.missing_token ?? 0)).toBe(1);
      expect((after.stale_timestamp ?? 0) - (before.stale_timestamp ?? 0)).toBe(2);
      const [last] = await db.query(
        'SELECT reason, path, method FROM security_rejections ORDER BY id DESC LIMIT 1',
      );
      expect(last).toEqual({ reason: 'stale_timestamp', path: '/core/update', method: 'POST' });
    });

    async function counters(): Promise<Record<string, number>> {
      const rows = await db.query<{ reason: string; count: string }>(
        'SELECT reason, count FROM security_counters',
      );
      return Object.fromEntries(rows.map((row) => [row.reason, Number(row.count)]));
    }
  });

  describe('step 8: store', () => {
    it('database down → 503 store_unavailable, nothing stored; the same request succeeds once it is back', async () => {
      const body = signed(keys.privateKeyPem, updatePayload());
      await setDatabaseReachable(db.name, false);
      try {
        expectRejection(await post('/core/update', body), 503, 'store_unavailable');
      } finally {
        await setDatabaseReachable(db.name, true);
      }
      const response = await post('/core/update', body);
      expect(response.status).toBe(201);
      const rows = await db.query('SELECT count(*)::int AS n FROM nonces WHERE nonce = $1', [
        body.payload.nonce,
      ]);
      expect(rows[0].n).toBe(1);
    });
  });

  it('the chain of everything accepted in this suite verifies', async () => {
    const response = await request(bridge.app.getHttpServer())
      .get('/provenance/verify')
      .set('Authorization', `Bearer ${tokenFor(['admin'])}`);
    expect(response.body).toEqual({
      valid: true,
      length: expect.any(Number),
      head_hash: expect.any(String),
    });
    expect(response.body.head_hash).not.toBe(GENESIS_HASH);
  });
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function claims() {
  return { iss: 'core-bucket-bridge', exp: Math.floor(Date.now() / 1000) + 600, roles: ['module'] };
}
