import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { isProcessAlive } from '../src/database/embedded/fs-process.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { signed, tokenFor, updatePayload } from './support/requests.js';
import {
  buildService,
  productionEnv,
  stopService,
  spawnService,
  waitUntilServing,
  type ServiceProcess,
  type SpawnCommand,
} from './support/server-process.js';

// The built service on its embedded default (DATABASE_URL unset), as `npm start` runs it.
// Ports of the embedded-postgres suites: never the app default (54329) nor 5432.
const ROOT_CLONE_PORT = 54391;
const SIGINT_PORT = 54392;

const asRoot = process.getuid?.() === 0 ? it : it.skip;

interface Acknowledged {
  sequence: number;
  hash: string;
}

describe('the service on its embedded PostgreSQL', () => {
  let keys: TestKeys;
  const moduleToken = tokenFor(['module'], { ttlSeconds: 3600 });
  const cleanups: string[] = [];

  beforeAll(() => {
    buildService();
    keys = createTestKeys();
  });

  afterAll(() => {
    for (const dir of cleanups) rmSync(dir, { recursive: true, force: true });
  });

  const serviceEnv = (extra: Record<string, string>) =>
    productionEnv(keys.dir, { LOG_LEVEL: 'info', ...extra });

  const postUpdate = (service: ServiceProcess) =>
    fetch(`${service.baseUrl}/core/update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${moduleToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(signed(keys.privateKeyPem, updatePayload())),
    });

  async function stop(service: ServiceProcess): Promise<void> {
    expect(await stopService(service)).toBe(0);
  }

  async function storedHashes(url: string): Promise<Map<number, string>> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ sequence: string; hash: string }>(
        'SELECT sequence, hash FROM chain_entries',
      );
      return new Map(rows.map((row) => [Number(row.sequence), row.hash]));
    } finally {
      await client.end();
    }
  }

  function embeddedUrl(dataDir: string, port: number): string {
    const password = readFileSync(join(dataDir, 'postgres.password'), 'utf8').trim();
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/bridge`;
  }

  asRoot(
    'as root, starts from a clone in a folder the postgres user cannot enter, and keeps its data',
    async () => {
      // A clone in a 0700 home: its own dist and node_modules (hard links), so the binaries too
      // are out of the postgres user's reach.
      const home = mkdtempSync(join(tmpdir(), 'bridge-root-home-'));
      cleanups.push(home);
      chmodSync(home, 0o700);
      const clone = join(home, 'bridge');
      mkdirSync(clone);
      execFileSync('cp', ['-al', 'dist', 'node_modules', 'package.json', 'plugins', clone]);
      expect(() =>
        execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', `ls ${clone}`], { stdio: 'ignore' }),
      ).toThrow();

      const how: SpawnCommand = {
        command: process.execPath,
        args: ['dist/src/main.js'],
        cwd: clone,
      };
      const env = await serviceEnv({ EMBEDDED_DATABASE_PORT: String(ROOT_CLONE_PORT) });
      const first = spawnService(env, how);
      await waitUntilServing(first, 120_000);
      const response = await postUpdate(first);
      expect(response.status).toBe(201);
      const ack = (await response.json()) as Acknowledged;
      await stop(first);

      const place = /the embedded cluster for it lives in ([^\s"]+)/.exec(first.output())?.[1];
      expect(place).toMatch(/^\/var\/lib\/core-bucket-bridge\/[0-9a-f]{16}$/);
      cleanups.push(place!);
      expect(first.output()).toMatch(/Initialising a new embedded PostgreSQL cluster/);

      const second = spawnService(env, how);
      await waitUntilServing(second, 120_000);
      const stored = await storedHashes(embeddedUrl(place!, ROOT_CLONE_PORT));
      await stop(second);
      expect(stored.get(ack.sequence)).toBe(ack.hash);
      expect(second.output()).toContain(`lives in ${place}`);
      expect(second.output()).not.toMatch(/Initialising a new embedded PostgreSQL cluster/);
    },
  );

  it('SIGINT to the whole process group under load: no 5xx, nothing acknowledged lost, postgres gone', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bridge-sigint-'));
    cleanups.push(dataDir);
    const env = await serviceEnv({
      DATA_DIR: dataDir,
      EMBEDDED_DATABASE_PORT: String(SIGINT_PORT),
    });
    // Its own process group, like `npm start` in a terminal (Ctrl-C = SIGINT to the group).
    const service = spawnService(env, {
      command: process.execPath,
      args: ['dist/src/main.js'],
      detached: true,
    });
    await waitUntilServing(service, 120_000);
    const postmasterPid = Number(
      readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n', 1)[0],
    );

    const acknowledged: Acknowledged[] = [];
    const statuses: number[] = [];
    let refused = false;
    const lanes = Array.from({ length: 4 }, async () => {
      while (!refused) {
        try {
          const response = await postUpdate(service);
          statuses.push(response.status);
          if (response.status === 201) acknowledged.push((await response.json()) as Acknowledged);
          else await response.body?.cancel();
        } catch {
          refused = true; // connection refused or reset: the server has closed
        }
      }
    });
    while (acknowledged.length < 50) await new Promise((resolve) => setTimeout(resolve, 20));
    process.kill(-service.child.pid!, 'SIGINT');
    expect(await service.exited).toBe(0);
    refused = true;
    await Promise.all(lanes);

    expect(statuses.filter((status) => status >= 500)).toEqual([]);
    expect(await isProcessAlive(postmasterPid)).toBe(false);
    console.log(
      `SIGINT under load: ${statuses.length} answers, ${acknowledged.length} acknowledged (201)`,
    );

    const again = spawnService(env);
    await waitUntilServing(again, 120_000);
    const stored = await storedHashes(embeddedUrl(dataDir, SIGINT_PORT));
    await stop(again);
    expect(acknowledged.filter((ack) => stored.get(ack.sequence) !== ack.hash)).toEqual([]);
  });
});
