import { jest } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { RecordedRun } from '../src/automation/engine/automation-run.repository.js';
import { SecurityAudit } from '../src/security/security-audit.service.js';
import { pollFor, jobOf, TEST_PLUGIN_DIRS, writeJobFile } from './support/automation.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys } from './support/keys.js';
import { tokenFor } from './support/requests.js';

describe('automation control API (SPEC §3, §8)', () => {
  let db: TestDatabase;
  let bridge: TestBridge;
  let gateFile: string;
  const tokens = {
    module: tokenFor(['module']),
    automation: tokenFor(['automation']),
    admin: tokenFor(['admin']),
  };

  const call = (method: 'get' | 'post', path: string, token?: string) => {
    const pending = request(bridge.app.getHttpServer())[method](path);
    return token ? pending.set('Authorization', `Bearer ${token}`) : pending;
  };
  const runOf = (id: number) =>
    pollFor(`run ${id} to end`, async () => {
      const { body } = await call('get', '/automation/runs?limit=500', tokens.admin);
      const run = (body.runs as RecordedRun[]).find((candidate) => candidate.id === id);
      return run && run.outcome !== 'running' ? run : undefined;
    });

  beforeAll(async () => {
    db = await createTestDatabase('automation_api');
    gateFile = join(mkdtempSync(join(tmpdir(), 'bridge-gate-')), 'open');
    const jobFile = writeJobFile([
      jobOf('heartbeat', 'heartbeat', { trigger: { type: 'intervalMinutes', value: 1 } }),
      jobOf('probe', 'probe', {
        trigger: { type: 'cron', expression: '*/10 * * * *' },
        scope: 'cluster',
      }),
      jobOf('gate', 'gate', { params: { file: gateFile } }),
      jobOf('sync_test', 'sync_test', { scope: 'cluster' }),
      jobOf('latency_probe', 'latency_probe', { params: { samples: 2 } }),
    ]);
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: createTestKeys().dir,
      env: { NODE_ID: 'replica-1', AUTOMATION_CONFIG: jobFile, PLUGINS_DIR: TEST_PLUGIN_DIRS },
    });
  });

  afterAll(async () => {
    await bridge?.close();
    await db?.drop();
  });

  describe('role matrix', () => {
    it.each(['/automation/jobs', '/automation/runs'])(
      'GET %s: automation and admin 200, module 403, no token 401',
      async (path) => {
        expect({
          none: (await call('get', path)).status,
          module: (await call('get', path, tokens.module)).status,
          automation: (await call('get', path, tokens.automation)).status,
          admin: (await call('get', path, tokens.admin)).status,
        }).toEqual({ none: 401, module: 403, automation: 200, admin: 200 });
      },
    );

    it('POST /automation/jobs/:name/run: automation and admin 202, module 403, no token 401', async () => {
      const path = '/automation/jobs/probe/run';
      expect((await call('post', path)).status).toBe(401);
      expect((await call('post', path, tokens.module)).status).toBe(403);
      for (const token of [tokens.automation, tokens.admin]) {
        const response = await call('post', path, token);
        expect(response.status).toBe(202);
        await runOf(response.body.run_id); // a job never overlaps itself: let this run end
      }
    });

    it('refuses a module token with forbidden_role', async () => {
      const response = await call('get', '/automation/jobs', tokens.module);
      expect(response.body).toEqual({
        status: 'rejected',
        reason: 'forbidden_role',
        message: expect.any(String),
      });
    });
  });

  it('lists the jobs with their triggers, scope and last run', async () => {
    const started = await call('post', '/automation/jobs/probe/run', tokens.automation);
    await runOf(started.body.run_id);
    const { status, body } = await call('get', '/automation/jobs', tokens.automation);
    expect(status).toBe(200);
    expect(body).toMatchObject({ node: 'replica-1', scheduling: false });
    expect(body.jobs.map((job: { name: string }) => job.name)).toEqual([
      'heartbeat',
      'probe',
      'gate',
      'sync_test',
      'latency_probe',
    ]);
    expect(body.jobs[1]).toEqual({
      name: 'probe',
      description: null,
      scope: 'cluster',
      trigger: { type: 'cron', expression: '*/10 * * * *', timezone: 'UTC' },
      timeout_seconds: 60,
      plugins: ['probe'],
      running: false,
      next_run: null,
      last_run: expect.objectContaining({ job: 'probe', outcome: 'succeeded' }),
    });
  });

  it('runs a job now: 202 with the run id, then a recorded run (a heartbeat from this node)', async () => {
    const response = await call('post', '/automation/jobs/heartbeat/run', tokens.admin);
    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      run_id: expect.any(Number),
      job: 'heartbeat',
      outcome: 'running',
    });

    const run = await runOf(response.body.run_id);
    expect(run).toMatchObject({
      job: 'heartbeat',
      plugin: 'heartbeat',
      node: 'replica-1',
      scope: 'node',
      trigger: 'manual',
      outcome: 'succeeded',
      error: null,
      result: { heartbeat: { module: 'automation-replica-1', node: 'replica-1' } },
    });
    expect(run.duration_ms).toEqual(expect.any(Number));

    const status = await call('get', '/bucket/status', tokens.automation);
    expect(status.body.modules).toContainEqual(
      expect.objectContaining({
        module: 'automation-replica-1',
        last_node: 'replica-1',
        last_heartbeat_status: 'alive',
      }),
    );
  });

  it('answers 409 while the job is running, and runs it again once it has ended', async () => {
    const first = await call('post', '/automation/jobs/gate/run', tokens.automation);
    expect(first.status).toBe(202);
    const second = await call('post', '/automation/jobs/gate/run', tokens.automation);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ status: 'rejected', reason: 'job_running' });
    const jobs = await call('get', '/automation/jobs', tokens.automation);
    expect(jobs.body.jobs.find((job: { name: string }) => job.name === 'gate').running).toBe(true);

    writeFileSync(gateFile, '');
    expect(await runOf(first.body.run_id)).toMatchObject({ outcome: 'succeeded' });
    const third = await call('post', '/automation/jobs/gate/run', tokens.automation);
    expect(third.status).toBe(202);
    await runOf(third.body.run_id);
  });

  it('runs the built-in sync_test and latency_probe plugins against this replica', async () => {
    const sync = await call('post', '/automation/jobs/sync_test/run', tokens.automation);
    const latency = await call('post', '/automation/jobs/latency_probe/run', tokens.automation);
    expect(await runOf(sync.body.run_id)).toMatchObject({
      outcome: 'succeeded',
      result: { sync_test: { module: 'automation-replica-1', sequence: expect.any(Number) } },
    });
    const measured = (await runOf(latency.body.run_id)).result!.latency_probe;
    expect(measured).toEqual({
      samples: 2,
      sign_ms: expect.any(Number),
      verify_ms: expect.any(Number),
      http_ms: expect.any(Number),
      status_ms: expect.any(Number),
      heartbeat_ms: expect.any(Number),
      database_ms: expect.any(Number),
    });
  });

  it('answers 404 for an unknown job', async () => {
    const response = await call('post', '/automation/jobs/nope/run', tokens.admin);
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ status: 'rejected', reason: 'unknown_job' });
  });

  it('filters and limits the run history, newest first', async () => {
    const { body } = await call('get', '/automation/runs?job=probe&limit=2', tokens.automation);
    expect(body.runs.length).toBeGreaterThan(0);
    expect(body.runs.length).toBeLessThanOrEqual(2);
    expect(body.runs.every((run: RecordedRun) => run.job === 'probe')).toBe(true);
    const all = await call('get', '/automation/runs', tokens.automation);
    const ids = all.body.runs.map((run: RecordedRun) => run.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('answers ?limit=abc 400 invalid_parameter, and does not count it as a security rejection', async () => {
    const audit = jest.spyOn(bridge.app.get(SecurityAudit), 'record');
    try {
      const response = await call('get', '/automation/runs?limit=abc', tokens.automation);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        status: 'rejected',
        reason: 'invalid_parameter',
        message: 'limit must be a positive integer',
      });
      expect(audit).not.toHaveBeenCalled();
    } finally {
      audit.mockRestore();
    }
  });
});
