import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataSource } from '../src/database/data-source.js';
import { runMigrationsExclusively } from '../src/database/migrate.js';
import { runCompiledCli } from './support/chain-cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { signed, tokenFor, updatePayload } from './support/requests.js';
import { waitFor } from './support/wait.js';
import {
  buildService,
  productionEnv,
  freePort,
  spawnService,
  waitUntilServing,
  type ServiceProcess,
  stopService,
} from './support/server-process.js';

interface Acknowledged {
  sequence: number;
  hash: string;
}

describe('the service as a process', () => {
  let keys: TestKeys;
  const moduleToken = tokenFor(['module'], { ttlSeconds: 3600 });
  const adminToken = tokenFor(['admin'], { ttlSeconds: 3600 });

  beforeAll(() => {
    buildService();
    keys = createTestKeys();
  });

  const serviceEnv = (extra: Record<string, string>) => productionEnv(keys.dir, extra);

  const postUpdate = (service: ServiceProcess) =>
    fetch(`${service.baseUrl}/core/update`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${moduleToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(signed(keys.privateKeyPem, updatePayload())),
    });

  const getJson = async (service: ServiceProcess, path: string) =>
    (
      await fetch(`${service.baseUrl}${path}`, {
        headers: { Authorization: `Bearer ${adminToken}` },
      })
    ).json();

  const failures: string[] = [];

  /** Posts updates on `lanes` parallel loops until `stopped()`; records every acknowledgement. */
  async function load(
    service: ServiceProcess,
    lanes: number,
    stopped: () => boolean,
    acknowledged: Acknowledged[],
  ) {
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (!stopped()) {
          try {
            const response = await postUpdate(service);
            const body = await response.json();
            if (response.status === 201) acknowledged.push(body as Acknowledged);
            else failures.push(`${response.status} ${JSON.stringify(body)}`);
          } catch {
            return; // connection refused or reset: the process is gone
          }
        }
      }),
    );
  }

  describe('on a PostgreSQL server', () => {
    let db: TestDatabase;

    beforeEach(async () => {
      db = await createTestDatabase('process');
    });

    afterEach(async () => {
      await db.drop();
    });

    it('SIGKILL under load loses nothing acknowledged; after a restart the chain verifies', async () => {
      const env = await serviceEnv({ DATABASE_URL: db.url });
      const service = spawnService(env);
      await waitUntilServing(service);
      const acknowledged: Acknowledged[] = [];
      let killed = false;
      const traffic = load(service, 16, () => killed, acknowledged);
      await waitFor(
        () => acknowledged.length >= 300 || failures.length > 0,
        '300 acknowledged updates',
      );
      expect(failures).toEqual([]);
      service.child.kill('SIGKILL');
      killed = true;
      await Promise.all([traffic, service.exited]);

      const restarted = spawnService(env);
      await waitUntilServing(restarted);
      try {
        const stored = await db.query<{ sequence: string; hash: string }>(
          'SELECT sequence, hash FROM chain_entries',
        );
        const storedHash = new Map(stored.map((row) => [Number(row.sequence), row.hash]));
        const missing = acknowledged.filter((ack) => storedHash.get(ack.sequence) !== ack.hash);
        expect(missing).toEqual([]);
        expect(await getJson(restarted, '/provenance/verify')).toEqual({
          valid: true,
          length: stored.length,
          head_hash: expect.any(String),
        });
        expect((await postUpdate(restarted)).status).toBe(201);
      } finally {
        await stopService(restarted);
      }
    });

    it('SIGTERM finishes the requests in flight, then exits 0', async () => {
      const service = spawnService(await serviceEnv({ DATABASE_URL: db.url }));
      await waitUntilServing(service);
      const acknowledged: Acknowledged[] = [];
      let stopped = false;
      const traffic = load(service, 16, () => stopped, acknowledged);
      await waitFor(
        () => acknowledged.length >= 100 || failures.length > 0,
        '100 acknowledged updates',
      );
      expect(failures).toEqual([]);
      service.child.kill('SIGTERM');
      // Keep-alive clients that never pause are told to close, so the drain still ends.
      expect(await service.exited).toBe(0);
      stopped = true;
      await traffic;

      const stored = await db.query<{ sequence: string; hash: string }>(
        'SELECT sequence, hash FROM chain_entries',
      );
      const storedHash = new Map(stored.map((row) => [Number(row.sequence), row.hash]));
      expect(acknowledged.filter((ack) => storedHash.get(ack.sequence) !== ack.hash)).toEqual([]);
      expect(service.output()).toMatch(/SIGTERM received/);
    });

    it('replicas migrating at once apply each migration exactly once', async () => {
      const sources = Array.from({ length: 3 }, () => createDataSource(db.url, 2));
      await Promise.all(sources.map((source) => source.initialize()));
      try {
        const applied = await Promise.all(
          sources.map((source) => runMigrationsExclusively(source)),
        );
        expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
        const rows = await db.query('SELECT name FROM schema_migrations');
        expect(rows).toHaveLength(applied.flat().length);
      } finally {
        await Promise.all(sources.map((source) => source.destroy()));
      }
    });
  });

  describe('refusing to start', () => {
    it('exits non-zero naming every configuration problem', async () => {
      const service = spawnService({ NODE_ENV: 'production', PORT: 'eighty', KEYS_DIR: keys.dir });
      expect(await service.exited).toBe(1);
      expect(service.output()).toMatch(/JWT_SECRET is required in production/);
      expect(service.output()).toMatch(/PORT must be a whole number/);
      expect(service.output()).not.toMatch(/at .*\.js:\d+/); // no stack trace
    });

    it('exits non-zero when the port is taken', async () => {
      const db = await createTestDatabase('porttaken');
      const env = await serviceEnv({ DATABASE_URL: db.url });
      const first = spawnService(env);
      try {
        await waitUntilServing(first);
        const second = spawnService(env);
        expect(await second.exited).toBe(1);
        expect(second.output()).toMatch(/port is already in use/);
      } finally {
        await stopService(first);
        await db.drop();
      }
    });

    it('exits non-zero when production keys are missing', async () => {
      const emptyKeys = mkdtempSync(join(tmpdir(), 'bridge-nokeys-'));
      const service = spawnService({
        ...(await serviceEnv({ DATABASE_URL: 'postgres://127.0.0.1:1/none' })),
        KEYS_DIR: emptyKeys,
      });
      expect(await service.exited).toBe(1);
      expect(service.output()).toMatch(/public\.pem is missing/);
      expect(service.output()).toMatch(/checkpoint\.pem is missing/);
      rmSync(emptyKeys, { recursive: true });
    });
  });

  describe('the embedded default (DATABASE_URL unset)', () => {
    let dataDir: string;

    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'bridge-embedded-'));
    });

    afterAll(() => {
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('starts, accepts updates, restarts with its data, and chain:verify opens it when stopped', async () => {
      const env = await serviceEnv({
        DATA_DIR: dataDir,
        EMBEDDED_DATABASE_PORT: String(await freePort()),
      });
      const service = spawnService(env);
      await waitUntilServing(service);
      let hash = '';
      for (let update = 0; update < 3; update += 1) {
        const accepted = await postUpdate(service);
        expect(accepted.status).toBe(201);
        ({ hash } = (await accepted.json()) as Acknowledged);
      }
      expect(await stopService(service)).toBe(0);

      const restarted = spawnService(env);
      await waitUntilServing(restarted);
      try {
        expect(await getJson(restarted, '/provenance/verify')).toEqual({
          valid: true,
          length: 3,
          head_hash: hash,
        });
        expect(await getJson(restarted, '/bucket/status')).toMatchObject({
          totals: { updates: 3, heartbeats: 0 },
        });
      } finally {
        expect(await stopService(restarted)).toBe(0);
      }

      // The CLI starts the embedded server itself; its slice threads connect to it too.
      const verified = await runCompiledCli('chain-verify', ['--jobs', '2'], env);
      expect(verified.stdout).toBe(`chain valid: 3 entries, head ${hash}\n`);
      expect(verified.code).toBe(0);
    });
  });
});
