import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobCatalog } from '../src/automation/jobs/job-catalog.js';
import type { JobDefinition } from '../src/automation/jobs/job-config.js';
import { JobDispatcher } from '../src/automation/engine/job-dispatcher.js';
import { jobOf, pollFor, TEST_PLUGIN_DIRS, writeJobFile } from './support/automation.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys } from './support/keys.js';

/** Two replicas of the service on one database, driven tick by tick as their schedulers would. */
describe('automation across two service instances on one database', () => {
  let db: TestDatabase;
  let replicas: TestBridge[];
  let gateFile: string;

  const job = (bridge: TestBridge, name: string): JobDefinition =>
    bridge.app.get(JobCatalog).get(name)!;
  const tick = (bridge: TestBridge, name: string, slot: Date) =>
    bridge.app.get(JobDispatcher).runScheduled(job(bridge, name), slot);
  const runsPerNode = async (name: string) => {
    const rows = await db.query<{ node: string; runs: number }>(
      `SELECT node, count(*)::int AS runs FROM automation_runs WHERE job = $1 GROUP BY node ORDER BY node`,
      [name],
    );
    return Object.fromEntries(rows.map((row) => [row.node, row.runs]));
  };
  const totalRuns = async (name: string) =>
    Object.values(await runsPerNode(name)).reduce((sum, runs) => sum + runs, 0);

  beforeAll(async () => {
    db = await createTestDatabase('automation_cluster');
    const keys = createTestKeys();
    gateFile = join(mkdtempSync(join(tmpdir(), 'bridge-gate-')), 'open');
    const jobFile = writeJobFile([
      jobOf('cluster-probe', 'probe', { scope: 'cluster' }),
      jobOf('node-probe', 'probe', { scope: 'node' }),
      jobOf('cluster-gate', 'gate', { scope: 'cluster', params: { file: gateFile } }),
    ]);
    replicas = [];
    for (const node of ['replica-a', 'replica-b']) {
      replicas.push(
        await startTestBridge({
          databaseUrl: db.url,
          keysDir: keys.dir,
          env: { NODE_ID: node, AUTOMATION_CONFIG: jobFile, PLUGINS_DIR: TEST_PLUGIN_DIRS },
        }),
      );
    }
  });

  afterAll(async () => {
    for (const replica of replicas ?? []) await replica.close();
    await db?.drop();
  });

  it('runs a cluster job once per tick and a node job on both replicas', async () => {
    const [a, b] = replicas;
    const slots = ['10:00', '10:05', '10:10'].map((time) => new Date(`2026-11-26T${time}:00Z`));
    for (const slot of slots) {
      await Promise.all([
        tick(a, 'cluster-probe', slot),
        tick(b, 'cluster-probe', slot),
        tick(a, 'node-probe', slot),
        tick(b, 'node-probe', slot),
      ]);
    }
    expect(await totalRuns('cluster-probe')).toBe(3);
    expect(await runsPerNode('node-probe')).toEqual({ 'replica-a': 3, 'replica-b': 3 });
    const outcomes = await db.query(`SELECT DISTINCT outcome FROM automation_runs`);
    expect(outcomes).toEqual([{ outcome: 'succeeded' }]);
  });

  it('does not run a tick again on a replica whose timer fired after the run had ended', async () => {
    const [a, b] = replicas;
    const before = await totalRuns('cluster-probe');
    const slot = new Date('2026-11-26T10:15:00Z');
    await tick(a, 'cluster-probe', slot);
    await tick(b, 'cluster-probe', slot);
    expect(await totalRuns('cluster-probe')).toBe(before + 1);
    await tick(b, 'cluster-probe', new Date('2026-11-26T10:20:00Z'));
    expect(await totalRuns('cluster-probe')).toBe(before + 2);
  });

  it('skips the next tick of a cluster job still running on the other replica', async () => {
    const [a, b] = replicas;
    const first = tick(a, 'cluster-gate', new Date('2026-11-26T11:00:00Z'));
    await pollFor('the first run to start', async () =>
      (await totalRuns('cluster-gate')) === 1 ? true : undefined,
    );
    await tick(b, 'cluster-gate', new Date('2026-11-26T11:05:00Z'));
    expect(await runsPerNode('cluster-gate')).toEqual({ 'replica-a': 1 });

    writeFileSync(gateFile, '');
    await first;
    const [run] = await db.query(`SELECT node, outcome FROM automation_runs WHERE job = $1`, [
      'cluster-gate',
    ]);
    expect(run).toEqual({ node: 'replica-a', outcome: 'succeeded' });
  });
});
