import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { TEST_JWT_SECRET } from './requests.js';

/** Compiles the service once per run (only if sources changed), for specs that spawn it. */
export function buildService(): void {
  execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { stdio: 'inherit' });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** How to start it when not `node dist/src/main.js` here (a production copy, another user). */
export interface SpawnCommand {
  command: string;
  args: string[];
  cwd?: string;
  /** A process group of its own, as a terminal gives `npm start` (signal it as `-pid`). */
  detached?: boolean;
}

/** Starts `node dist/src/main.js` (what `npm run start:prod` runs) with `env` on top of a clean environment. */
export function spawnService(
  env: Record<string, string>,
  how: SpawnCommand = { command: process.execPath, args: ['dist/src/main.js'] },
): ServiceProcess {
  const child = spawn(how.command, how.args, {
    cwd: how.cwd,
    detached: how.detached ?? false,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, baseUrl: `http://127.0.0.1:${env.PORT}`, output: () => output, exited };
}

/**
 * What most specs start the service with: production mode on a free port, the test JWT secret and
 * the keys in `keysDir`, no drain grace; `extra` on top.
 */
export async function productionEnv(
  keysDir: string,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  return {
    NODE_ENV: 'production',
    PORT: String(await freePort()),
    JWT_SECRET: TEST_JWT_SECRET,
    KEYS_DIR: keysDir,
    SHUTDOWN_GRACE_SECONDS: '0',
    ...extra,
  };
}

/** Sends SIGTERM and resolves with the exit code once the service has drained and ended. */
export function stopService(service: ServiceProcess): Promise<number | null> {
  service.child.kill('SIGTERM');
  return service.exited;
}

/** Waits until the service answers HTTP (any status), failing early if it exits. */
export async function waitUntilServing(service: ServiceProcess, timeoutMs = 60_000): Promise<void> {
  let exitCode: number | null | undefined;
  void service.exited.then((code) => (exitCode = code));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`service exited with ${exitCode}:\n${service.output()}`);
    try {
      await fetch(`${service.baseUrl}/`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`service did not serve within ${timeoutMs} ms:\n${service.output()}`);
}
