import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModuleStatus } from '../src/client/bridge-wire.js';
import { jobOf, reportedRuns, writeJobFile } from './support/automation.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { TEST_JWT_SECRET, tokenFor } from './support/requests.js';
import { buildService } from './support/server-process.js';

const NODES = ['node-001', 'node-002', 'node-003'];

/** `npm run automation` (the compiled runner) against an in-process bridge. */
describe('automation runner --once --nodes 3', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;

  /** Runs the compiled CLI; resolves with its exit code and output. */
  const runner = (args: string[]) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['dist/src/cli/automation.cli.js', ...args], {
        env: {
          ...process.env,
          NODE_ENV: 'test',
          BRIDGE_URL: bridge.baseUrl,
          JWT_SECRET: TEST_JWT_SECRET,
          KEYS_DIR: keys.dir,
          LOG_DIR: 'none',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });

  const heartbeatsByModule = async (): Promise<Map<string, ModuleStatus>> => {
    const response = await fetch(`${bridge.baseUrl}/bucket/status`, {
      headers: { Authorization: `Bearer ${tokenFor(['automation'])}` },
    });
    const status = (await response.json()) as { modules: ModuleStatus[] };
    return new Map(status.modules.map((module) => [module.module, module]));
  };

  beforeAll(async () => {
    buildService();
    db = await createTestDatabase('automation_runner');
    keys = createTestKeys();
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
  }, 180_000);

  afterAll(async () => {
    await bridge?.close();
    await db?.drop();
  });

  it('runs the built-in jobs on three nodes: heartbeats of each visible, reports written', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'bridge-reports-'));
    const { code, output } = await runner(['--once', '--nodes', '3', '--reports', reports]);
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('9 succeeded') });

    const modules = await heartbeatsByModule();
    for (const node of NODES) {
      expect(modules.get(`automation-${node}`)).toMatchObject({
        last_node: node,
        last_heartbeat_status: 'alive',
        state: 'alive',
      });
      expect(readdirSync(join(reports, node)).sort()).toEqual([
        'daily_log.txt',
        'engine.log',
        'plugin_errors.log',
        expect.stringMatching(/^run_\d{8}T\d{6}Z\.jsonl$/),
      ]);
      expect(reportedRuns(reports, node).map((run) => [run.job, run.outcome])).toEqual([
        ['heartbeat', 'succeeded'],
        ['sync_test', 'succeeded'],
        ['latency_probe', 'succeeded'],
      ]);
      expect(readFileSync(join(reports, node, 'plugin_errors.log'), 'utf8')).toBe('');
      const daily = readFileSync(join(reports, node, 'daily_log.txt'), 'utf8')
        .trim()
        .split('\n');
      expect(daily).toEqual([expect.stringContaining(`${node}: 3 run(s), 3 succeeded`)]);
      expect(readFileSync(join(reports, node, 'engine.log'), 'utf8')).toContain(
        'job heartbeat: succeeded',
      );
    }
  });

  it('records a plugin that throws, hangs, exits its process or blocks it; the rest complete', async () => {
    const before = await heartbeatsByModule();
    const reports = mkdtempSync(join(tmpdir(), 'bridge-reports-'));
    const jobFile = writeJobFile([
      jobOf('beat-before', 'heartbeat'),
      jobOf('boom', 'throws', { params: { nodes: ['node-001'] } }),
      jobOf('stall', 'hangs', { timeoutSeconds: 1 }),
      jobOf('crash', 'exits', { params: { nodes: ['node-002'] } }),
      jobOf('spin', 'spins', { timeoutSeconds: 1, params: { nodes: ['node-003'] } }),
      jobOf('beat-after', 'heartbeat'),
    ]);
    const { code, output } = await runner([
      '--once',
      '--nodes',
      '3',
      '--config',
      jobFile,
      '--plugins',
      'dist/plugins',
      '--plugins',
      'test/fixtures/runner-plugins',
      '--reports',
      reports,
    ]);
    expect(code).toBe(1);

    const outcomes = Object.fromEntries(
      NODES.map((node) => [
        node,
        reportedRuns(reports, node).map((run) => `${run.job}:${run.outcome}`),
      ]),
    );
    expect(outcomes).toEqual({
      'node-001': [
        'beat-before:succeeded',
        'boom:failed',
        'stall:timed_out',
        'crash:succeeded',
        'spin:succeeded',
        'beat-after:succeeded',
      ],
      'node-002': [
        'beat-before:succeeded',
        'boom:succeeded',
        'stall:timed_out',
        'crash:crashed',
        'spin:succeeded',
        'beat-after:succeeded',
      ],
      'node-003': [
        'beat-before:succeeded',
        'boom:succeeded',
        'stall:timed_out',
        'crash:succeeded',
        'spin:timed_out',
        'beat-after:succeeded',
      ],
    });
    expect(output).toContain('18 run(s) on 3 node(s)');

    const after = await heartbeatsByModule();
    for (const node of NODES) {
      const module = `automation-${node}`;
      expect(after.get(module)!.heartbeats - before.get(module)!.heartbeats).toBe(2);
    }
    const errors = (node: string) => readFileSync(join(reports, node, 'plugin_errors.log'), 'utf8');
    expect(errors('node-001')).toContain(
      'boom (throws) failed: throws: deliberate failure on node-001',
    );
    expect(errors('node-001')).toMatch(/at ThrowingPlugin\.run/);
    expect(errors('node-002')).toContain(
      'crash (exits) crashed: the node process ended during the run (exit code 3)',
    );
    expect(errors('node-003')).toContain('spin (spins) timed_out: did not finish within 1 s');
    expect(readFileSync(join(reports, 'node-003', 'daily_log.txt'), 'utf8')).toContain(
      'node-003: 6 run(s), 4 succeeded, 2 timed_out',
    );
  });

  it('refuses a plugins folder of TypeScript sources and names the compiled one', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'bridge-reports-'));
    const { code, output } = await runner(['--once', '--plugins', 'plugins', '--reports', reports]);
    expect(code).toBe(1);
    expect(output).toContain(
      'holds TypeScript sources (*.plugin.ts) and no compiled *.plugin.js: pass the folder they are built into (the built-in plugins: dist/plugins)',
    );
    expect(output).toContain('0 run(s) on 0 node(s)');
  });
});
