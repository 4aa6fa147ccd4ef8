import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { TEST_JWT_SECRET } from './support/requests.js';
import { waitFor } from './support/wait.js';
import {
  buildService,
  freePort,
  spawnService,
  waitUntilServing,
  type ServiceProcess,
  stopService,
} from './support/server-process.js';

/** The "listening" line names the process to signal. */
const LISTENING = /listening on port \d+ \(.*, pid (\d+)\)/;

describe('starting the service', () => {
  let keys: TestKeys;
  let db: TestDatabase;
  const scratch = mkdtempSync(join(tmpdir(), 'bridge-startup-'));

  beforeAll(async () => {
    buildService();
    keys = createTestKeys();
    db = await createTestDatabase('startup');
  });

  afterAll(async () => {
    await db.drop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const serviceEnv = async (extra: Record<string, string> = {}) => ({
    NODE_ENV: 'production',
    PORT: String(await freePort()),
    JWT_SECRET: TEST_JWT_SECRET,
    KEYS_DIR: keys.dir,
    DATABASE_URL: db.url,
    LOG_LEVEL: 'info',
    NODE_ID: 'startup-node',
    ...extra,
  });

  async function stop(service: ServiceProcess): Promise<void> {
    expect(await stopService(service)).toBe(0);
  }

  it('writes one JSON shape to stdout, with time and node, from the first line on', async () => {
    const service = spawnService(await serviceEnv());
    let stdout = '';
    service.child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitUntilServing(service);
    await stop(service);

    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(3);
    const shapeless = lines.filter((line) => {
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return (
          typeof parsed.time !== 'number' ||
          parsed.node !== 'startup-node' ||
          typeof parsed.msg !== 'string'
        );
      } catch {
        return true;
      }
    });
    expect(shapeless).toEqual([]);
    expect(stdout).toMatch(LISTENING);
  });

  describe('reports configuration problems together, before the database starts', () => {
    /** Without DATABASE_URL: the embedded database would be made in DATA_DIR. */
    async function refusedStart(extra: Record<string, string>): Promise<string> {
      const dataDir = mkdtempSync(join(scratch, 'data-'));
      const env = await serviceEnv({
        DATABASE_URL: '',
        DATA_DIR: dataDir,
        MAX_CLOCK_SKEW_SECONDS: '0',
        ...extra,
      });
      const service = spawnService(env);
      expect(await service.exited).toBe(1);
      expect(readdirSync(dataDir)).toEqual([]); // no cluster, no lock: nothing was started
      expect(service.output()).toMatch(/MAX_CLOCK_SKEW_SECONDS must be a whole number/);
      expect(service.output()).not.toMatch(/at .*\.js:\d+/); // no stack trace
      return service.output();
    }

    it('a missing AUTOMATION_CONFIG file', async () => {
      const output = await refusedStart({ AUTOMATION_CONFIG: join(scratch, 'missing.json') });
      expect(output).toMatch(/AUTOMATION_CONFIG .*missing\.json cannot be read as JSON: ENOENT/);
    });

    it('an AUTOMATION_CONFIG that is not JSON', async () => {
      const file = join(scratch, 'broken.json');
      writeFileSync(file, '[{"name": ');
      const output = await refusedStart({ AUTOMATION_CONFIG: file });
      expect(output).toMatch(/AUTOMATION_CONFIG .*broken\.json cannot be read as JSON/);
    });

    it('an AUTOMATION_CONFIG that breaks the job schema', async () => {
      const file = join(scratch, 'schema.json');
      writeFileSync(file, JSON.stringify([{ name: 'no-trigger', actions: [] }]));
      const output = await refusedStart({ AUTOMATION_CONFIG: file });
      expect(output).toMatch(/AUTOMATION_CONFIG .*schema\.json: job "no-trigger"/);
    });

    it('a PORT that is out of range', async () => {
      const output = await refusedStart({ PORT: '70000' });
      expect(output).toMatch(/PORT must be a whole number from 0 to 65535 \(got "70000"\)/);
    });

    it('a PORT that is already in use', async () => {
      const holder: Server = createServer();
      await new Promise<void>((resolve) => holder.listen(0, resolve));
      const { port } = holder.address() as { port: number };
      try {
        const output = await refusedStart({ PORT: String(port) });
        expect(output).toMatch(new RegExp(`PORT ${port}: the port is already in use`));
      } finally {
        holder.close();
      }
    });
  });

  it('under `npm start`, SIGHUP to the pid in the start-up log reloads the keys', async () => {
    const env = await serviceEnv();
    const npm = spawnService(env, { command: 'npm', args: ['start'] });
    try {
      await waitUntilServing(npm);
      await waitFor(() => LISTENING.test(npm.output()), 'the listening line');
      const pid = Number(LISTENING.exec(npm.output())![1]);
      expect(pid).not.toBe(npm.child.pid); // npm's own pid would end npm, not reload anything

      process.kill(pid, 'SIGHUP');
      await waitFor(() => /verification keys reloaded \(SIGHUP\)/.test(npm.output()), 'reload');
      expect((await fetch(`${npm.baseUrl}/health/live`)).status).toBe(200);

      process.kill(pid, 'SIGTERM');
      await waitFor(() => !existsSync(`/proc/${pid}`), 'the service to exit');
    } finally {
      await stopService(npm);
    }
  });
});
