import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { reportedRuns } from './support/automation.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { TEST_JWT_SECRET, tokenFor } from './support/requests.js';
import { documentedBlock } from './support/docs.js';
import { buildService } from './support/server-process.js';

/** Files the documented commands write in the repository root (git-ignored); removed after. */
const WRITTEN = [
  'checkpoint.txt',
  'checkpoint-public.pem',
  `checkpoint-${new Date().toISOString().slice(0, 10)}.json`,
];

describe('the documented commands, run as printed', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let env: Record<string, string>;

  /** Runs `script` in the repository root against the test bridge (in place of localhost:8000). */
  const run = async (command: string, script: string, extra: Record<string, string> = {}) => {
    const host = new URL(bridge.baseUrl).host;
    const { stdout } = await promisify(execFile)(
      command,
      ['-c', script.replaceAll('localhost:8000', host)],
      {
        env: { ...env, ...extra },
        encoding: 'utf8',
      },
    );
    return stdout;
  };

  beforeAll(async () => {
    buildService();
    db = await createTestDatabase('docs_commands');
    keys = createTestKeys();
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
    env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      KEYS_DIR: keys.dir,
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
    };
  });

  afterAll(async () => {
    for (const file of WRITTEN) rmSync(file, { force: true });
    await bridge.close();
    await db.drop();
  });

  it("README's round trip answers as shown: accepted, then replay_detected, then a valid chain", async () => {
    const output = (await run('bash', documentedBlock('README.md', 'sh', 'curl -s -X POST')))
      // curl prints each answer without a newline: one JSON object after another.
      .split(/(?<=\})(?=\{)/);
    expect(JSON.parse(output[0])).toMatchObject({ status: 'accepted', sequence: 1 });
    expect(JSON.parse(output[1])).toEqual({
      status: 'rejected',
      reason: 'replay_detected',
      message: 'This nonce was already used',
    });
    expect(JSON.parse(output[2])).toMatchObject({ valid: true, length: 1 });
    expect(JSON.parse(output[3])).toMatchObject({ modules: expect.anything() });
  });

  it("docs/api-reference.md's command lists the document's paths, the ingestion routes among them", async () => {
    const paths = JSON.parse(
      await run('bash', documentedBlock('docs/api-reference.md', 'sh', 'openapi.json')),
    ) as string[];
    expect(paths).toEqual(expect.arrayContaining(['/core/update', '/core/heartbeat', '/docs']));
  });

  it("docs/auditing.md's checkpoint save, key print and all three verifiers accept the saved note", async () => {
    await request(bridge.app.getHttpServer())
      .post('/provenance/checkpoint')
      .set('Authorization', `Bearer ${tokenFor(['admin'])}`)
      .expect(201);
    const token = { TOKEN: tokenFor(['module']) };
    await run('sh', documentedBlock('docs/auditing.md', 'sh', 'jq -j .note'), token);
    await run('sh', documentedBlock('docs/auditing.md', 'sh', '--print-checkpoint-key >'));
    expect(readFileSync('checkpoint-public.pem', 'utf8')).toMatch(
      /^-----BEGIN PUBLIC KEY-----\n[\s\S]*\n$/,
    );

    expect(await run('sh', documentedBlock('docs/auditing.md', 'sh', 'openssl pkeyutl'))).toBe(
      'Signature Verified Successfully\n',
    );
    expect(
      await run('python3', documentedBlock('docs/auditing.md', 'python', 'load_pem_public_key')),
    ).toMatch(/^core-bucket-bridge 1 [0-9a-f]{64} \S+ head [0-9a-f]{64}\n$/);
    const verified = await run(
      'sh',
      'npm run -s chain:verify -- --checkpoint checkpoint.txt --checkpoint-key checkpoint-public.pem',
    );
    expect(verified).toContain('checkpoint checkpoint.txt (core-bucket-bridge, length 1');
  });

  it("docs/automation.md's runner examples load the built-in plugins from dist/plugins, run them on every node and report each run", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'bridge-docs-runner-'));
    const output = await run(
      'sh',
      documentedBlock('docs/automation.md', 'sh', 'npm run automation -- --once'),
      { BRIDGE_URL: bridge.baseUrl, LOG_DIR: logDir, NODE_ID: 'docs-node' },
    );
    expect(output).toContain('9 run(s) on 3 node(s)');
    expect(output).toContain('1 run(s) on 1 node(s)');

    const reports = join(logDir, 'automation');
    expect(readdirSync(reports).sort()).toEqual(['docs-node', 'node-001', 'node-002', 'node-003']);
    const outcomes = (node: string) =>
      reportedRuns(reports, node).map(({ job, plugin, outcome }) => [job, plugin, outcome]);
    for (const node of ['node-001', 'node-002', 'node-003'])
      expect(outcomes(node)).toEqual([
        ['heartbeat', 'heartbeat', 'succeeded'],
        ['sync_test', 'sync_test', 'succeeded'],
        ['latency_probe', 'latency_probe', 'succeeded'],
      ]);
    expect(outcomes('docs-node')).toEqual([['heartbeat', 'heartbeat', 'succeeded']]);

    const status = await request(bridge.app.getHttpServer())
      .get('/bucket/status')
      .set('Authorization', `Bearer ${tokenFor(['automation'])}`)
      .expect(200);
    const heartbeatsOf = (module: string): number | undefined =>
      (status.body as { modules: { module: string; heartbeats: number }[] }).modules.find(
        (entry) => entry.module === module,
      )?.heartbeats;
    expect(heartbeatsOf('automation-docs-node')).toBe(1);
    // node-002's heartbeat job and latency_probe's one timed heartbeat.
    expect(heartbeatsOf('automation-node-002')).toBe(2);
    rmSync(logDir, { recursive: true, force: true });
  });
});
