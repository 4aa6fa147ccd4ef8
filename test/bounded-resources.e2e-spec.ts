import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import request from 'supertest';
import { LOGGED_TEXT_MAX_CHARS } from '../src/common/bounded-text.js';
import { MetricsSnapshotWriter } from '../src/health/metrics-snapshot.writer.js';
import { ChainRepository } from '../src/provenance/chain.repository.js';
import { ProvenanceService } from '../src/provenance/provenance.service.js';
import { SecurityRejectionJanitor } from '../src/security/security-rejection.janitor.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { waitFor } from './support/wait.js';
import { heartbeatPayload, signed, tokenFor, updatePayload } from './support/requests.js';
import {
  buildService,
  productionEnv,
  stopService,
  spawnService,
  waitUntilServing,
  type ServiceProcess,
} from './support/server-process.js';

/** Just under Node's 16 KiB limit on the request head, which the path is part of. */
const LONG_PATH_CHARS = 15_000;
/** A bounded field: the cut text plus its "…[+N chars]" marker. */
const BOUNDED_FIELD_CHARS = LOGGED_TEXT_MAX_CHARS + 20;

const adminToken = tokenFor(['admin'], { ttlSeconds: 3600 });
const moduleToken = tokenFor(['module'], { ttlSeconds: 3600 });
const automationToken = tokenFor(['automation'], { ttlSeconds: 3600 });

const modesOf = (dir: string) =>
  readdirSync(dir).map((file) => [file, statSync(join(dir, file)).mode & 0o777] as const);

describe('requests without a token cannot fill disks', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let logDir: string;
  let service: ServiceProcess;

  beforeAll(async () => {
    buildService();
    db = await createTestDatabase('bounded_disk');
    keys = createTestKeys();
    logDir = mkdtempSync(join(tmpdir(), 'bridge-bounded-logs-'));
    service = spawnService(
      await productionEnv(keys.dir, {
        DATABASE_URL: db.url,
        LOG_DIR: logDir,
        LOG_LEVEL: 'info', // the production default: every 4xx is an access log line
      }),
    );
    await waitUntilServing(service);
  });

  afterAll(async () => {
    await stopService(service);
    await db.drop();
    rmSync(logDir, { recursive: true, force: true });
  });

  const tableBytes = async () =>
    Number(
      (
        await db.query<{ n: string }>(`SELECT pg_total_relation_size('security_rejections') AS n`)
      )[0].n,
    );

  it('1,000 unauthenticated requests with a 15 KB path cost bounded stdout, mirror and table growth, and are all counted', async () => {
    const path = `/provenance/entries/${'9'.repeat(LONG_PATH_CHARS)}`;
    const stdoutBefore = Buffer.byteLength(service.output());
    const tableBefore = await tableBytes();
    const statuses: number[] = [];
    for (let round = 0; round < 20; round += 1) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => fetch(`${service.baseUrl}${path}`)),
      );
      for (const answer of answers) {
        statuses.push(answer.status);
        const body = (await answer.json()) as { reason: string; message: string };
        expect(body.reason).toBe('missing_token');
      }
    }
    expect(statuses.filter((status) => status === 401)).toHaveLength(1000);

    // /core/health flushes this replica's rejections first: the counts are exact.
    const health = (await (
      await fetch(`${service.baseUrl}/core/health`, {
        headers: { Authorization: `Bearer ${adminToken}` },
      })
    ).json()) as { security: { rejected_by_reason: Record<string, number> } };
    expect(health.security.rejected_by_reason.missing_token).toBe(1000);
    // The dashboard's series adds the counts of the aggregated rows.
    const insight = (await (
      await fetch(`${service.baseUrl}/insight/api/summary`, {
        headers: { Authorization: `Bearer ${adminToken}` },
      })
    ).json()) as { series: { last_15_minutes: { points: Array<{ rejected: number }> } } };
    const points = insight.series.last_15_minutes.points;
    expect(points.reduce((sum, point) => sum + point.rejected, 0)).toBe(1000);
    const [rows] = await db.query<{ rows: string; total: string; longest: number }>(
      `SELECT count(*) AS rows, sum(count) AS total, max(length(path)) AS longest
       FROM security_rejections WHERE reason = 'missing_token'`,
    );
    expect(Number(rows.total)).toBe(1000);
    expect(rows.longest).toBeLessThanOrEqual(BOUNDED_FIELD_CHARS);

    // Unbounded, each request wrote its path twice to stdout (access line + security line) and
    // once to the mirror and the table: 1,000 × 15 KB each. Bounded: one access line of at most
    // ~1 KB per request, and the security lines and rows of the ~250 ms flush intervals only.
    const stdoutGrowth = Buffer.byteLength(service.output()) - stdoutBefore;
    const mirrorSize = statSync(join(logDir, 'security_rejects.log')).size;
    expect(stdoutGrowth).toBeLessThan(1000 * 1024);
    expect(Number(rows.rows)).toBeLessThan(200);
    expect(mirrorSize).toBeLessThan(Number(rows.rows) * 2 * 1024);
    expect((await tableBytes()) - tableBefore).toBeLessThan(512 * 1024);
    for (const line of readFileSync(join(logDir, 'security_rejects.log'), 'utf8')
      .trim()
      .split('\n')) {
      expect(line.length).toBeLessThan(1024);
    }
  });

  it('creates every LOG_DIR mirror readable by its owner only (0600)', async () => {
    const update = await fetch(`${service.baseUrl}/core/update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${moduleToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(signed(keys.privateKeyPem, updatePayload())),
    });
    expect(update.status).toBe(201);
    const modes = modesOf(logDir);
    expect(modes.map(([file]) => file)).toEqual(
      expect.arrayContaining(['security_rejects.log', 'core_sync.log', 'provenance_chain.jsonl']),
    );
    for (const [file, mode] of modes) expect([file, mode.toString(8)]).toEqual([file, '600']);
  });
});

describe('bounded logs, answers and walks', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let logDir: string;

  const get = (path: string, token = adminToken) =>
    request(bridge.app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  const post = (path: string, body: unknown, token = moduleToken) =>
    request(bridge.app.getHttpServer())
      .post(path)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));

  const startBridge = () =>
    startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: {
        LOG_DIR: logDir,
        LOG_MIRROR_MAX_BYTES: '4096',
        LOG_MIRROR_FILES: '2',
        AUTOMATION_MODULES_MAX: '3',
      },
    });

  beforeAll(async () => {
    db = await createTestDatabase('bounded');
    keys = createTestKeys();
    logDir = mkdtempSync(join(tmpdir(), 'bridge-bounded-rotation-'));
    bridge = await startBridge();
  });

  afterAll(async () => {
    await bridge.close();
    await db.drop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('a 404 does not echo a long path back', async () => {
    const response = await request(bridge.app.getHttpServer()).get(
      `/${'x'.repeat(LONG_PATH_CHARS)}`,
    );
    expect(response.status).toBe(404);
    expect(response.body.reason).toBe('not_found');
    expect(response.body.message.length).toBeLessThanOrEqual(BOUNDED_FIELD_CHARS);
  });

  it('rotates a mirror at LOG_MIRROR_MAX_BYTES and keeps LOG_MIRROR_FILES copies, each 0600', async () => {
    const sequences: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      const response = await post('/core/update', signed(keys.privateKeyPem, updatePayload()));
      expect(response.status).toBe(201);
      sequences.push(response.body.sequence as number);
    }
    await bridge.close(); // flushes the mirror files
    bridge = await startBridge();
    const chainFiles = readdirSync(logDir)
      .filter((file) => file.startsWith('provenance_chain.jsonl'))
      .sort();
    expect(chainFiles).toEqual([
      'provenance_chain.jsonl',
      'provenance_chain.jsonl.1',
      'provenance_chain.jsonl.2',
    ]);
    for (const file of chainFiles) {
      expect(statSync(join(logDir, file)).size).toBeLessThanOrEqual(4096);
    }
    const newest = readFileSync(join(logDir, 'provenance_chain.jsonl'), 'utf8').trim().split('\n');
    expect((JSON.parse(newest[newest.length - 1]) as { sequence: number }).sequence).toBe(
      sequences[sequences.length - 1],
    );
    for (const [file, mode] of modesOf(logDir))
      expect([file, mode.toString(8)]).toEqual([file, '600']);
  });

  it('prunes security rejections older than SECURITY_REJECTIONS_RETENTION_DAYS; the counts keep them', async () => {
    await db.query(
      `INSERT INTO security_rejections (occurred_at, node_id, reason, method, path, message, count)
       VALUES (now() - interval '31 days', 'n', 'missing_token', 'GET', '/old', 'old', 1),
              (now() - interval '29 days', 'n', 'missing_token', 'GET', '/recent', 'recent', 1)`,
    );
    const unauthenticated = await request(bridge.app.getHttpServer()).get('/bucket/status');
    expect(unauthenticated.status).toBe(401);
    const before = (await get('/core/health')).body.security.rejected_by_reason.missing_token;

    await bridge.app.get(SecurityRejectionJanitor).prune();

    const paths = await db.query<{ path: string }>('SELECT path FROM security_rejections');
    expect(paths.map((row) => row.path)).not.toContain('/old');
    expect(paths.map((row) => row.path)).toEqual(
      expect.arrayContaining(['/recent', '/bucket/status']),
    );
    expect((await get('/core/health')).body.security.rejected_by_reason.missing_token).toBe(before);
  });

  describe('with 20,000 invented modules', () => {
    const MODULES = 20_000;
    const nameOf = (i: number) => `invented-${String(i).padStart(5, '0')}`;

    beforeAll(async () => {
      // As 20,000 heartbeats would leave them (the intake's transaction is tested elsewhere):
      // half silent for an hour (stale), half never heartbeat (unknown).
      await db.query(
        `INSERT INTO module_stats (module, updates, heartbeats, last_heartbeat_at, last_status)
         SELECT 'invented-' || lpad(i::text, 5, '0'), 0, 1,
                CASE WHEN i % 2 = 0 THEN now() - interval '1 hour' END, 'alive'
         FROM generate_series(0, $1 - 1) AS i`,
        [MODULES],
      );
    });

    it('GET /bucket/status answers a page of 100 with exact totals and counts by state', async () => {
      const response = await get('/bucket/status');
      expect(response.status).toBe(200);
      expect(response.text.length).toBeLessThan(64 * 1024);
      expect(response.body.modules).toHaveLength(100);
      expect(response.body.modules[0].module).toBe('invented-00000');
      expect(response.body.next_after).toBe('invented-00099');
      expect(response.body.summary).toMatchObject({ stale: MODULES / 2 });
      expect(response.body.summary.modules).toBeGreaterThanOrEqual(MODULES);
      expect(response.body.totals.heartbeats).toBeGreaterThanOrEqual(MODULES);
    });

    it('pages with ?limit=&after= cover every module once, and ?module= answers one', async () => {
      const seen: string[] = [];
      let after: string | null = '';
      while (after !== null) {
        const response = await get(`/bucket/status?limit=1000${after ? `&after=${after}` : ''}`);
        expect(response.status).toBe(200);
        expect(response.body.modules.length).toBeLessThanOrEqual(1000);
        seen.push(...(response.body.modules as Array<{ module: string }>).map((m) => m.module));
        after = response.body.next_after as string | null;
      }
      const invented = seen.filter((name) => name.startsWith('invented-'));
      expect(invented).toHaveLength(MODULES);
      expect(new Set(invented).size).toBe(MODULES);
      expect(invented[MODULES - 1]).toBe(nameOf(MODULES - 1));

      const one = await get(`/bucket/status?module=${nameOf(1234)}`);
      expect(one.body.modules).toEqual([
        expect.objectContaining({ module: nameOf(1234), state: 'stale' }),
      ]);
      expect(one.body.next_after).toBeNull();
    });

    it.each(['limit=0', 'limit=1001', 'limit=ten', 'limit=1&limit=2', 'after=a%20b', 'module=%00'])(
      'GET /bucket/status?%s → 400 invalid_parameter',
      async (query) => {
        const response = await get(`/bucket/status?${query}`);
        expect(response.status).toBe(400);
        expect(response.body.reason).toBe('invalid_parameter');
      },
    );

    it('GET /core/health and each metrics.jsonl line name at most 100 stale modules, with exact counts', async () => {
      const response = await get('/core/health');
      expect(response.status).toBe(200);
      expect(response.text.length).toBeLessThan(32 * 1024);
      expect(response.body.heartbeats.stale).toBe(MODULES / 2);
      expect(response.body.heartbeats.unknown).toBeGreaterThanOrEqual(MODULES / 2);
      expect(response.body.heartbeats.stale_modules).toHaveLength(100);

      const dashboard = await get('/insight/api/summary');
      expect(dashboard.status).toBe(200);
      expect(dashboard.body.modules).toHaveLength(100);
      expect(dashboard.body.tiles.accepted.heartbeats).toBeGreaterThanOrEqual(MODULES);

      await bridge.app.get(MetricsSnapshotWriter).write();
      await bridge.close();
      const lines = readFileSync(join(logDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line.length).toBeLessThan(32 * 1024);
      bridge = await startBridge();
    });
  });

  describe('who may heartbeat for which module', () => {
    it.each([
      ['an automation token as a real module', 403, automationToken, 'module-a'],
      [
        'an automation token as its own automation module',
        201,
        automationToken,
        'automation-node-7',
      ],
      [
        'a module token bound to module-b as module-a',
        403,
        tokenFor(['module'], { sub: 'module-b' }),
        'module-a',
      ],
      [
        'a module token bound to module-a as itself',
        201,
        tokenFor(['module'], { sub: 'module-a' }),
        'module-a',
      ],
      ['an admin token as any module', 201, adminToken, 'module-a'],
    ])('%s → %d', async (_case, status, token, module) => {
      const response = await post(
        '/core/heartbeat',
        signed(keys.privateKeyPem, heartbeatPayload({ module })),
        token,
      );
      expect(response.status).toBe(status);
      if (status === 403) expect(response.body.reason).toBe('module_mismatch');
    });

    it('automation-only tokens create at most AUTOMATION_MODULES_MAX automation modules', async () => {
      const beat = (module: string) =>
        post(
          '/core/heartbeat',
          signed(keys.privateKeyPem, heartbeatPayload({ module })),
          automationToken,
        );
      // automation-node-7 (above) is the first of 3.
      expect((await beat('automation-q1')).status).toBe(201);
      expect((await beat('automation-q2')).status).toBe(201);
      const over = await beat('automation-q3');
      expect([over.status, over.body.reason]).toEqual([403, 'module_mismatch']);
      expect((await beat('automation-q1')).status).toBe(201);
      expect((await beat('automation-node-7')).status).toBe(201);
    });
  });

  it('ten concurrent GET /provenance/verify share one walk of the chain', async () => {
    const chain = bridge.app.get(ChainRepository);
    const readPages = chain.pages.bind(chain);
    let releaseWalk!: () => void;
    const walkHeld = new Promise<void>((resolve) => (releaseWalk = resolve));
    // The walk waits until all ten callers have asked, so they overlap whatever the machine's speed.
    const pages = jest.spyOn(chain, 'pages').mockImplementation(async function* (...args) {
      await walkHeld;
      yield* readPages(...args);
    });
    const verify = jest.spyOn(bridge.app.get(ProvenanceService), 'verify');
    const answering = Promise.all(Array.from({ length: 10 }, () => get('/provenance/verify')));
    await waitFor(() => verify.mock.calls.length === 10, 'ten verify calls');
    releaseWalk();
    const answers = await answering;
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
    expect(answers[0].body.valid).toBe(true);
    expect(pages).toHaveBeenCalledTimes(1);
    pages.mockRestore();
    verify.mockRestore();

    // A later call walks again, and sees what was appended since.
    await post('/core/update', signed(keys.privateKeyPem, updatePayload()));
    const later = await get('/provenance/verify');
    expect(later.body.length).toBe(answers[0].body.length + 1);
  });
});
