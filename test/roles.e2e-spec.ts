import request from 'supertest';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { buildInsightPage } from './support/insight.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { heartbeatPayload, signed, tokenFor, updatePayload } from './support/requests.js';

type Caller = 'module' | 'automation' | 'admin' | 'auditor' | 'none';

interface EndpointRule {
  method: 'get' | 'post';
  path: string;
  /** What each caller gets: the success status, 403 or 401 (SPEC §3). */
  expected: Record<Caller, number>;
  body?: (keys: TestKeys) => unknown;
  /** An endless answer (Server-Sent Events): only its status is read, then the call is aborted. */
  stream?: true;
}

/**
 * SPEC §3 as data. Changing who may call what means changing this table, which makes every
 * permission change visible in review.
 */
const ROLE_MATRIX: EndpointRule[] = [
  {
    method: 'post',
    path: '/core/update',
    expected: { module: 201, automation: 403, admin: 201, auditor: 403, none: 401 },
    body: (keys) => signed(keys.privateKeyPem, updatePayload()),
  },
  {
    method: 'post',
    path: '/core/heartbeat',
    expected: { module: 201, automation: 201, admin: 201, auditor: 403, none: 401 },
    // An automation token heartbeats only as an automation-… module (bounded-resources spec).
    body: (keys) => signed(keys.privateKeyPem, heartbeatPayload({ module: 'automation-node-1' })),
  },
  {
    method: 'get',
    path: '/bucket/status',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/verify',
    expected: { module: 403, automation: 403, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/export',
    expected: { module: 403, automation: 403, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/entries/1',
    expected: { module: 403, automation: 403, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/checkpoint',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/checkpoint/1',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/checkpoint-key',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'post',
    path: '/provenance/checkpoint',
    expected: { module: 403, automation: 403, admin: 201, auditor: 403, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/proof/inclusion?sequence=1',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/proof/consistency?from=1&to=1',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/provenance/receipt/1',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/tlog/checkpoint',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/tlog/tile/0/000.p/1',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/core/health',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/health/live',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 200 },
  },
  {
    method: 'get',
    path: '/health/ready',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 200 },
  },
  {
    method: 'get',
    path: '/metrics',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 200 },
  },
  {
    method: 'get',
    path: '/automation/jobs',
    expected: { module: 403, automation: 200, admin: 200, auditor: 403, none: 401 },
  },
  {
    method: 'get',
    path: '/automation/runs',
    expected: { module: 403, automation: 200, admin: 200, auditor: 403, none: 401 },
  },
  // An unknown job: the role passes the guard and then meets 404.
  {
    method: 'post',
    path: '/automation/jobs/no-such-job/run',
    expected: { module: 403, automation: 404, admin: 404, auditor: 403, none: 401 },
  },
  {
    method: 'get',
    path: '/insight',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 200 },
  },
  {
    method: 'get',
    path: '/docs',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 200 },
  },
  {
    method: 'get',
    path: '/docs/openapi.json',
    expected: { module: 200, automation: 200, admin: 200, auditor: 200, none: 200 },
  },
  {
    method: 'get',
    path: '/insight/api/summary',
    expected: { module: 403, automation: 403, admin: 200, auditor: 200, none: 401 },
  },
  {
    method: 'get',
    path: '/insight/api/stream',
    expected: { module: 403, automation: 403, admin: 200, auditor: 200, none: 401 },
    stream: true,
  },
];

const CALLERS: Caller[] = ['module', 'automation', 'admin', 'auditor', 'none'];

describe('role matrix (SPEC §3)', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;

  beforeAll(async () => {
    db = await createTestDatabase('roles');
    keys = createTestKeys();
    buildInsightPage();
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
    // Entry 1 and a checkpoint of it, so the read rows have something to read.
    const server = request(bridge.app.getHttpServer());
    const admin = `Bearer ${tokenFor(['admin'])}`;
    const body = JSON.stringify(signed(keys.privateKeyPem, updatePayload()));
    await server
      .post('/core/update')
      .set('Authorization', admin)
      .set('Content-Type', 'application/json')
      .send(body)
      .expect(201);
    await server.post('/provenance/checkpoint').set('Authorization', admin).expect(201);
  });

  afterAll(async () => {
    await bridge.close();
    await db.drop();
  });

  const cells = ROLE_MATRIX.flatMap((rule) =>
    CALLERS.map((caller) => [rule.method.toUpperCase(), rule.path, caller, rule] as const),
  );

  it.each(cells)('%s %s as %s', async (_method, path, caller, rule) => {
    if (rule.stream) {
      const abort = new AbortController();
      const headers: Record<string, string> =
        caller === 'none' ? {} : { Authorization: `Bearer ${tokenFor([caller])}` };
      const response = await fetch(bridge.baseUrl + path, { headers, signal: abort.signal });
      abort.abort();
      expect(response.status).toBe(rule.expected[caller]);
      return;
    }
    const call = request(bridge.app.getHttpServer())[rule.method](path);
    if (caller !== 'none') call.set('Authorization', `Bearer ${tokenFor([caller])}`);
    if (rule.body)
      call.set('Content-Type', 'application/json').send(JSON.stringify(rule.body(keys)));
    const response = await call;
    expect(response.status).toBe(rule.expected[caller]);
  });
});
