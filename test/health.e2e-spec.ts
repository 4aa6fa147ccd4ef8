import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { SecurityAudit } from '../src/security/security-audit.service.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, setDatabaseReachable, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { heartbeatPayload, signed, tokenFor, updatePayload } from './support/requests.js';
import { waitFor } from './support/wait.js';
import type { CoreHealthReport } from '../src/health/core-health.service.js';

const adminToken = tokenFor(['admin']);
const moduleToken = tokenFor(['module']);

/** Reads until `isDone` holds (polling with a deadline) and returns what was read last. */
async function readUntil<T>(
  what: string,
  read: () => Promise<T>,
  isDone: (value: T) => boolean,
): Promise<T> {
  let value!: T;
  await waitFor(async () => isDone((value = await read())), what, 15_000);
  return value;
}

// Ours, not parse-prometheus-text-format: this test must fail on any invalid line, which a 40-line
// strict reader does more plainly than adapting a general parser.
/** Reads the Prometheus text format strictly; throws on the first line that is not valid. */
function parsePrometheusText(text: string): Map<string, number> {
  const METRIC = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const sample = new RegExp(
    `^(${METRIC})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? ([-+]?(?:\\d+(?:\\.\\d*)?(?:[eE][-+]?\\d+)?|Inf|NaN))(?: -?\\d+)?$`,
    // Prometheus parses special values case-insensitively (Go's ParseFloat); prom-client writes `Nan`.
    'i',
  );
  const typed = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (comment) {
      if (comment[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(comment[3]);
        typed.set(comment[2], comment[3]);
      }
      continue;
    }
    const match = sample.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const family = match[1].replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(match[1]) && !typed.has(family))
      throw new Error(`sample before its # TYPE: ${line}`);
    const labels = (match[2] ?? '')
      .split(/,(?=[a-zA-Z_])/)
      .filter(Boolean)
      .sort()
      .join(',');
    samples.set(`${match[1]}{${labels}}`, parseSampleValue(match[3]));
  }
  return samples;
}

function parseSampleValue(text: string): number {
  if (/^[-+]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  return /^[-+]?nan$/i.test(text) ? NaN : Number(text);
}

function sampleOf(samples: Map<string, number>, name: string, labels: Record<string, string> = {}) {
  const key = Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .sort()
    .join(',');
  return samples.get(`${name}{${key}}`) ?? 0;
}

/** The body of GET /core/health, as the service declares it. */
type Report = CoreHealthReport;

describe('health, metrics and logs (SPEC §6–7)', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  /** The instance whose figures are read. */
  let bridge: TestBridge;
  /** A second replica on the same database, with /metrics turned off. */
  let second: TestBridge;

  const get = (target: TestBridge, path: string, token?: string) => {
    const call = request(target.app.getHttpServer()).get(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };
  const post = (target: TestBridge, path: string, body: unknown, token: string | null) => {
    const call = request(target.app.getHttpServer())
      .post(path)
      .set('Content-Type', 'application/json');
    if (token) call.set('Authorization', `Bearer ${token}`);
    return call.send(JSON.stringify(body));
  };
  const report = async (target: TestBridge = bridge): Promise<Report> => {
    const response = await get(target, '/core/health', adminToken);
    expect(response.status).toBe(200);
    return response.body as Report;
  };
  const routeCount = (figures: Report, route: string, status: number) =>
    figures.performance.requests_by_route[route]?.[String(status)] ?? 0;

  beforeAll(async () => {
    db = await createTestDatabase('health');
    keys = createTestKeys();
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
    second = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: { METRICS_ENABLED: 'false', NODE_ID: 'second' },
    });
  });

  afterAll(async () => {
    await bridge.close();
    await second.close();
    await db.drop();
  });

  it('answers the probes without a token', async () => {
    const live = await get(bridge, '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok', info: { process: { status: 'up' } } });

    const ready = await get(bridge, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(Object.keys(ready.body.details).sort()).toEqual([
      'database',
      'keys',
      'migrations',
      'serving',
    ]);
  });

  it('refuses /core/health without a token and answers every role', async () => {
    const anonymous = await get(bridge, '/core/health');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({
      status: 'rejected',
      reason: 'missing_token',
      message: expect.any(String),
    });
    for (const role of ['module', 'automation', 'admin']) {
      expect((await get(bridge, '/core/health', tokenFor([role]))).status).toBe(200);
    }
  });

  it('moves the security figures cluster-wide and the performance figures per instance', async () => {
    const before = await report();
    const update = () => signed(keys.privateKeyPem, updatePayload({ module: 'figures-a' }));
    const forged = { ...update(), signature: update().signature };

    // On this instance: 3 updates and 1 heartbeat accepted; a replay, a forged signature,
    // a bad token and a missing token rejected, all on POST /core/update.
    const first = update();
    for (const body of [first, update(), update()]) {
      expect((await post(bridge, '/core/update', body, moduleToken)).status).toBe(201);
    }
    const heartbeat = signed(keys.privateKeyPem, heartbeatPayload({ module: 'figures-hb' }));
    expect((await post(bridge, '/core/heartbeat', heartbeat, moduleToken)).status).toBe(201);
    expect((await post(bridge, '/core/update', first, moduleToken)).status).toBe(409);
    expect((await post(bridge, '/core/update', forged, moduleToken)).status).toBe(401);
    expect((await post(bridge, '/core/update', update(), 'not.a.jwt')).status).toBe(401);
    expect((await post(bridge, '/core/update', update(), null)).status).toBe(401);

    // On the second instance: 1 update accepted; a replay, a forged signature, an expired token.
    const onSecond = update();
    const accepted = await post(second, '/core/update', onSecond, moduleToken);
    expect(accepted.status).toBe(201);
    expect((await post(second, '/core/update', onSecond, moduleToken)).status).toBe(409);
    expect((await post(second, '/core/update', forged, moduleToken)).status).toBe(401);
    const expired = tokenFor(['module'], { ttlSeconds: -10 });
    expect((await post(second, '/core/update', update(), expired)).status).toBe(401);
    await second.app.get(SecurityAudit).flush();

    const after = await readUntil(
      "this instance's 401s in its figures",
      () => report(),
      (figures) =>
        routeCount(figures, 'POST /core/update', 401) -
          routeCount(before, 'POST /core/update', 401) ===
        3,
    );
    const security = after.security!;
    const was = before.security!;
    expect({
      accepted: security.accepted.total - was.accepted.total,
      updates: security.accepted.updates - was.accepted.updates,
      heartbeats: security.accepted.heartbeats - was.accepted.heartbeats,
      rejected: security.rejected_total - was.rejected_total,
      replays: security.replay_attempts - was.replay_attempts,
      invalidSignatures: security.invalid_signatures - was.invalid_signatures,
      invalidTokens: security.invalid_tokens - was.invalid_tokens,
      missingTokens:
        (security.rejected_by_reason.missing_token ?? 0) -
        (was.rejected_by_reason.missing_token ?? 0),
      nonces: security.nonce_store_size - was.nonce_store_size,
      chain: after.chain!.length - before.chain!.length,
      alive: after.heartbeats!.alive - before.heartbeats!.alive,
    }).toEqual({
      accepted: 5,
      updates: 4,
      heartbeats: 1,
      rejected: 7,
      replays: 2,
      invalidSignatures: 2,
      invalidTokens: 2,
      missingTokens: 1,
      nonces: 5,
      chain: 5,
      alive: 1,
    });
    expect(after.chain!.head_hash).toBe(accepted.body.hash);
    expect(security.last_rejection).toMatchObject({ reason: 'token_expired' });

    // Performance is this instance's alone: the second instance's requests are not in it.
    const delta = (route: string, status: number) =>
      routeCount(after, route, status) - routeCount(before, route, status);
    expect({
      updates201: delta('POST /core/update', 201),
      updates409: delta('POST /core/update', 409),
      updates401: delta('POST /core/update', 401),
      heartbeats201: delta('POST /core/heartbeat', 201),
    }).toEqual({ updates201: 3, updates409: 1, updates401: 3, heartbeats201: 1 });
    const performance = after.performance;
    expect(performance.requests_total - before.performance.requests_total).toBeGreaterThanOrEqual(
      8,
    );
    expect(performance.latency_ms.samples).toBeGreaterThanOrEqual(
      before.performance.latency_ms.samples + 8,
    );
    expect(performance.latency_ms.p50).toBeGreaterThan(0);
    expect(performance.latency_ms.p50).toBeLessThanOrEqual(performance.latency_ms.p95);
    expect(performance.latency_ms.p95).toBeLessThanOrEqual(performance.latency_ms.p99);
    expect(performance.requests_per_second).toBeGreaterThan(0);
  });

  it('labels requests by route template, never by raw URL', async () => {
    await get(bridge, '/provenance/entries/1', adminToken);
    await get(bridge, '/no/such/route', adminToken);
    const routes = Object.keys((await report()).performance.requests_by_route);
    expect(routes).toEqual(
      expect.arrayContaining(['GET /provenance/entries/:sequence', 'GET unmatched']),
    );
    expect(routes.some((route) => route.includes('/no/such'))).toBe(false);
  });

  it('serves Prometheus text with latency, accepted, rejected and chain metrics', async () => {
    const scrape = async () => {
      const response = await get(bridge, '/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      return parsePrometheusText(response.text);
    };
    const before = await scrape();
    const body = signed(keys.privateKeyPem, updatePayload());
    expect((await post(bridge, '/core/update', body, moduleToken)).status).toBe(201);
    expect((await post(bridge, '/core/update', body, moduleToken)).status).toBe(409);
    expect((await post(bridge, '/core/update', body, null)).status).toBe(401);
    const after = await readUntil(
      'the missing_token rejection in the counters',
      () => scrape(),
      (samples) =>
        sampleOf(samples, 'bridge_requests_rejected_total', { reason: 'missing_token' }) >
        sampleOf(before, 'bridge_requests_rejected_total', { reason: 'missing_token' }),
    );

    const delta = (name: string, labels: Record<string, string>) =>
      sampleOf(after, name, labels) - sampleOf(before, name, labels);
    expect({
      accepted: delta('bridge_events_accepted_total', { type: 'update' }),
      replays: delta('bridge_requests_rejected_total', { reason: 'replay_detected' }),
      missing: delta('bridge_requests_rejected_total', { reason: 'missing_token' }),
      latency201: delta('http_request_duration_seconds_count', {
        method: 'POST',
        route: '/core/update',
        status: '201',
      }),
    }).toEqual({ accepted: 1, replays: 1, missing: 1, latency201: 1 });
    const [{ length }] = await db.query<{ length: number }>(
      'SELECT count(*)::int AS length FROM chain_entries',
    );
    expect(sampleOf(after, 'bridge_chain_length')).toBe(length);
    expect(after.has('process_cpu_user_seconds_total{}')).toBe(true);
  });

  it('answers 404 at /metrics when METRICS_ENABLED=false', async () => {
    const response = await get(second, '/metrics');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 'rejected', reason: 'not_found' });
  });

  it('turns unready, not dead, while the database is unreachable, and recovers without a restart', async () => {
    await setDatabaseReachable(db.name, false);
    try {
      const ready = await get(bridge, '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe('error');
      expect(ready.body.error.database).toMatchObject({ status: 'down' });
      expect(JSON.stringify(ready.body)).not.toContain(db.name);
      expect((await get(bridge, '/health/live')).status).toBe(200);

      const full = await get(bridge, '/core/health', adminToken);
      expect(full.status).toBe(503);
      expect(full.body).toMatchObject({
        status: 'error',
        checks: { database: { status: 'down' } },
        security: null,
        performance: { requests_total: expect.any(Number) },
      });
    } finally {
      await setDatabaseReachable(db.name, true);
    }
    const recovered = await readUntil(
      'readiness to recover',
      () => get(bridge, '/health/ready'),
      (response) => response.status === 200,
    );
    expect(recovered.status).toBe(200);
  });

  describe('with LOG_DIR set', () => {
    let logged: TestBridge;
    let logDir: string;
    const lines = (file: string) =>
      existsSync(join(logDir, file))
        ? readFileSync(join(logDir, file), 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as Record<string, unknown>)
        : [];

    beforeAll(async () => {
      logDir = mkdtempSync(join(tmpdir(), 'bridge-logs-'));
      logged = await startTestBridge({
        databaseUrl: db.url,
        keysDir: keys.dir,
        env: { LOG_DIR: logDir, METRICS_SNAPSHOT_SECONDS: '1', SHUTDOWN_GRACE_SECONDS: '3' },
      });
    });

    afterAll(async () => {
      await logged.close();
    });

    it('writes one flow.log line per accepted or rejected event, and metrics.jsonl snapshots', async () => {
      const body = signed(keys.privateKeyPem, updatePayload({ module: 'flow-module' }));
      expect((await post(logged, '/core/update', body, moduleToken)).status).toBe(201);
      expect((await post(logged, '/core/update', body, moduleToken)).status).toBe(409);
      expect((await get(logged, '/bucket/status', moduleToken)).status).toBe(200);

      const flow = await readUntil(
        'two flow.log lines',
        async () => lines('flow.log'),
        (entries) => entries.length >= 2,
      );
      expect(flow).toEqual([
        expect.objectContaining({ module: 'flow-module', type: 'update', outcome: 'accepted' }),
        expect.objectContaining({
          module: 'flow-module',
          type: 'update',
          outcome: 'rejected',
          reason: 'replay_detected',
        }),
      ]);
      expect(flow[0]).toEqual({
        time: expect.any(String),
        module: 'flow-module',
        type: 'update',
        outcome: 'accepted',
        status: 201,
        latency_ms: expect.any(Number),
      });

      const snapshots = await readUntil(
        'a metrics.jsonl snapshot',
        async () => lines('metrics.jsonl'),
        (entries) => entries.length >= 1,
      );
      expect(snapshots[0]).toMatchObject({
        status: 'ok',
        performance: expect.any(Object),
        security: expect.objectContaining({ rejected_total: expect.any(Number) }),
        chain: expect.any(Object),
      });
    });

    it('turns readiness 503 as soon as shutdown begins, while still serving', async () => {
      const closing = logged.close();
      const ready = await readUntil(
        'readiness to turn 503',
        () => get(logged, '/health/ready'),
        (response) => response.status === 503,
      );
      expect(ready.status).toBe(503);
      expect(ready.body.details.serving).toMatchObject({ status: 'down' });
      expect((await get(logged, '/health/live')).status).toBe(200);
      await closing;
      logged = { ...logged, close: async () => undefined };
    });
  });
});
