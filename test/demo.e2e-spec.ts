import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { isProcessAlive } from '../src/database/embedded/fs-process.js';
import { createTestKeys } from './support/keys.js';
import { TEST_JWT_SECRET } from './support/requests.js';
import { buildService } from './support/server-process.js';
import { waitFor } from './support/wait.js';

const STEP_HEADINGS = [
  '1. A valid signed heartbeat is accepted',
  '2. An invalid signature is rejected',
  '3. A replay is rejected',
  '4. The provenance chain grows and verifies; a signed checkpoint is checked offline',
  '5. Plugins run on three isolated nodes',
  '6. The heartbeats are visible in /bucket/status and the logs',
  "7. /core/health's security figures moved by exactly what the demo sent",
];

/** Runs the compiled `npm run demo` with `env` on top of a bare environment. */
function runDemo(env: Record<string, string> = {}, args: string[] = []) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['dist/src/cli/demo.cli.js', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Processes whose command line names `text` (the embedded postgres names its data folder). */
function processesNaming(text: string): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    });
}

/** The demo's temporary folders present now. */
function demoFolders(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('bridge-demo-'));
}

describe('npm run demo', () => {
  beforeAll(() => buildService(), 180_000);

  it('starts its own bridge, shows the seven steps behaving, and leaves nothing behind', async () => {
    const { code, output } = await runDemo();

    expect({ code, tail: output.slice(-2000) }).toEqual({
      code: 0,
      tail: expect.stringMatching(/All 7 steps behaved, in [\d.]+ s\n$/),
    });
    for (const heading of STEP_HEADINGS) expect(output).toContain(`\n${heading}\n`);
    expect(output).toContain('401 invalid_signature');
    expect(output).toContain('409 replay_detected');
    const workDir = /^Starting a bridge on \S+ .* in (\S+)$/m.exec(output)![1];
    const pid = Number(/bridge: process (\d+),/.exec(output)![1]);
    expect(existsSync(workDir)).toBe(false);
    expect(await isProcessAlive(pid)).toBe(false);
    expect(processesNaming(workDir)).toEqual([]);
  }, 120_000);

  it('with --keep, leaves its bridge serving and prints a working InsightFlow link and how to stop it', async () => {
    const { code, output } = await runDemo({}, ['--keep']);
    const workDir = /^Starting a bridge on \S+ .* in (\S+)$/m.exec(output)![1];
    const pid = Number(/bridge: process (\d+),/.exec(output)![1]);
    try {
      expect(code).toBe(0);
      expect(output).toContain('\nThe bridge keeps running (--keep)\n');
      expect(output).toContain(
        `Stop it with: kill ${pid}   (it stops its database), then: rm -rf ${workDir}`,
      );
      const link = /^InsightFlow: (http:\/\/127\.0\.0\.1:\d+)\/insight#token=(\S+)$/m.exec(output)!;
      const [, baseUrl, token] = link;
      expect(await isProcessAlive(pid)).toBe(true);
      expect((await fetch(`${baseUrl}/insight`)).status).toBe(200);
      const summary = await fetch(`${baseUrl}/insight/api/summary`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(summary.status).toBe(200);
    } finally {
      // What the printed line tells a user to do.
      process.kill(pid, 'SIGTERM');
      await waitFor(async () => !(await isProcessAlive(pid)), 'the kept bridge to stop', 30_000);
      rmSync(workDir, { recursive: true, force: true });
    }
    expect(processesNaming(workDir)).toEqual([]);
  }, 120_000);

  describe('with BRIDGE_URL at a server that answers but is not a bridge', () => {
    let server: Server;
    let url: string;

    beforeAll(async () => {
      server = createServer((_request, response) => response.end('hello from something else'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    afterAll(() => new Promise((resolve) => server.close(resolve)));

    it('uses it, names where it failed and what it saw, exits 1 and removes its folder', async () => {
      const keys = createTestKeys();
      const foldersBefore = demoFolders();
      const { code, output } = await runDemo({
        BRIDGE_URL: url,
        KEYS_DIR: keys.dir,
        JWT_SECRET: TEST_JWT_SECRET,
      });

      expect(code).toBe(1);
      expect(output).toContain(`Using the bridge at BRIDGE_URL ${url} (it answers)`);
      expect(output).toMatch(
        /✗ start-up did not behave: GET \/core\/health answered 200 with no JSON \(hello from something else\): is this a bridge\?/,
      );
      expect(output).toMatch(/Demo FAILED at start-up after [\d.]+ s/);
      expect(output).not.toContain(STEP_HEADINGS[0]);
      expect(demoFolders().filter((name) => !foldersBefore.includes(name))).toEqual([]);
    }, 60_000);
  });
});
