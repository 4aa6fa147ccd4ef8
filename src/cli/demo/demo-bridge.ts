import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  environmentWith,
  isConfigured,
  loadConfig,
  type AppConfig,
} from '../../config/app-config.js';
import { stopOrphanedPostmaster } from '../../database/embedded/orphan-postmaster.js';
import { within } from '../../common/within.js';
import { keyPaths } from '../../security/key-files.js';
import { StepFailure } from './narrator.js';

/** The repository root and the service's entry point, from `dist/src/cli/demo/`. */
const REPOSITORY = fileURLToPath(new URL('../../../../', import.meta.url));
const SERVICE_MAIN = fileURLToPath(new URL('../../main.js', import.meta.url));

/** A first start initialises a PostgreSQL cluster and migrates it: seconds, more on a busy machine. */
const START_TIMEOUT_MS = 75_000;
const POLL_MS = 250;
/** Silence this long during start-up gets a "still starting" line. */
const PROGRESS_EVERY_MS = 5_000;
/** The started bridge finishes its requests and stops its database within this, or is killed. */
const STOP_TIMEOUT_MS = 20_000;
/** Start-up lines of the bridge worth showing while the demo waits. */
const STARTUP_LINE = /PostgreSQL|migrations|generated development|listening/;

/**
 * The bridge the demo talks to: one it starts on the embedded database in a temporary folder, or
 * the one at `BRIDGE_URL` when that answers. `stop()` undoes everything the demo started.
 */
export class DemoBridge {
  /** Holds the started bridge's data, keys, logs and output, and the runner's reports. */
  readonly workDir = mkdtempSync(join(tmpdir(), 'bridge-demo-'));
  url = '';
  /** The settings the demo signs and mints tokens with: those of the bridge it talks to. */
  config: AppConfig | undefined;
  /** The environment of the runner's node processes (undefined: the demo's own). */
  nodeEnv: NodeJS.ProcessEnv | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly say: (line: string) => void) {
    // As root, the embedded PostgreSQL runs as the `postgres` OS user, who must enter this folder.
    chmodSync(this.workDir, 0o711);
  }

  get started(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Where the started bridge's stdout and stderr go. */
  get outputFile(): string {
    return join(this.workDir, 'bridge.log');
  }

  async open(): Promise<void> {
    if (isConfigured('BRIDGE_URL')) {
      const config = loadConfig();
      const problem = await noAnswer(config.bridgeUrl);
      if (problem === undefined) {
        this.say(`Using the bridge at BRIDGE_URL ${config.bridgeUrl} (it answers)`);
        const missing = missingSecrets(config);
        if (missing.length > 0) {
          throw new StepFailure(
            `a bridge the demo did not start is reached with its own keys and JWT secret (run the demo with that bridge's KEYS_DIR and JWT_SECRET): ${missing.join('; ')}`,
          );
        }
        this.url = config.bridgeUrl;
        this.config = config;
        return;
      }
      this.say(`BRIDGE_URL ${config.bridgeUrl} does not answer (${problem}): starting a bridge`);
    }
    await this.start();
  }

  private async start(): Promise<void> {
    const [port, databasePort] = await freePorts(2);
    this.url = `http://127.0.0.1:${port}`;
    // Blank values unset what the caller's environment may say: this bridge is self-contained.
    const env = environmentWith({
      NODE_ENV: 'development',
      PORT: String(port),
      EMBEDDED_DATABASE_PORT: String(databasePort),
      DATABASE_URL: '',
      DATA_DIR: join(this.workDir, 'data'),
      KEYS_DIR: join(this.workDir, 'keys'),
      LOG_DIR: join(this.workDir, 'logs'),
      JWT_SECRET: '',
      BRIDGE_TOKEN: '',
      BRIDGE_URL: this.url,
      // Its own automation would add heartbeats and entries the demo did not send.
      AUTOMATION_ENABLED: 'false',
      AUTOMATION_CONFIG: '',
      PLUGINS_DIR: '',
    });
    this.config = loadConfig(env, REPOSITORY);
    this.nodeEnv = env;
    this.say(
      `Starting a bridge on ${this.url} with the embedded PostgreSQL on port ${databasePort}, in ${this.workDir}`,
    );
    const output = openSync(this.outputFile, 'a');
    try {
      // A process group of its own: Ctrl-C reaches the demo, which stops the bridge in order.
      this.child = spawn(process.execPath, [SERVICE_MAIN], {
        cwd: REPOSITORY,
        env,
        detached: true,
        stdio: ['ignore', output, output],
      });
    } finally {
      closeSync(output);
    }
    this.exited = once(this.child, 'exit');
    this.say(`  bridge: process ${this.child.pid}, output in ${this.outputFile}`);
    await this.waitUntilReady();
  }

  private async waitUntilReady(): Promise<void> {
    const started = Date.now();
    let shown = 0;
    let lastProgress = started;
    let exited = false;
    void this.exited!.then(() => (exited = true));
    while (Date.now() - started < START_TIMEOUT_MS) {
      const lines = this.outputLines();
      for (const line of lines.slice(shown)) {
        const message = startupMessage(line);
        if (message === undefined) continue;
        this.say(`  bridge: ${message}`);
        lastProgress = Date.now();
      }
      shown = lines.length;
      if (exited) {
        throw new StepFailure(`the bridge ended during start-up:\n${lines.slice(-15).join('\n')}`);
      }
      if (await isReady(this.url)) {
        this.say(`  bridge ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return;
      }
      if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
        this.say(`  still starting (${Math.round((Date.now() - started) / 1000)} s)`);
        lastProgress = Date.now();
      }
      await sleep(POLL_MS);
    }
    throw new StepFailure(`the bridge was not ready after ${START_TIMEOUT_MS / 1000} s`);
  }

  private outputLines(): string[] {
    try {
      return readFileSync(this.outputFile, 'utf8').split('\n').slice(0, -1);
    } catch {
      return [];
    }
  }

  /** Leaves the started bridge, and its folder, as they are when the demo exits (`--keep`). */
  keep(): void {
    this.child?.unref();
    this.stopping = Promise.resolve();
  }

  /** Stops the started bridge (which stops its database), then removes the temporary folder. */
  stop(): Promise<void> {
    return (this.stopping ??= this.stopAll());
  }

  private async stopAll(): Promise<void> {
    const child = this.child;
    if (child) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      if ((await within(this.exited!, STOP_TIMEOUT_MS, 'late')) === 'late') {
        child.kill('SIGKILL');
        await this.exited;
      }
      // Killed before it could stop it (during start-up, or after the timeout): its postmaster.
      const quiet = { log: () => undefined, warn: () => undefined };
      await stopOrphanedPostmaster(join(this.workDir, 'data', 'postgres'), quiet).catch(
        () => undefined,
      );
      killProcessesUnder(this.workDir);
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

/** What signing, minting and checking the checkpoint need that `config` does not have. */
function missingSecrets(config: AppConfig): string[] {
  const paths = keyPaths(config.keysDir);
  const missing = [paths.privateKey, paths.checkpointKey]
    .filter((path) => !existsSync(path))
    .map((path) => `${path} is missing`);
  if (!config.jwtSecret && !existsSync(paths.jwtSecret)) {
    missing.push(`JWT_SECRET is unset and ${paths.jwtSecret} is missing`);
  }
  return missing;
}

/** Why `url` gives no HTTP answer at all, or undefined when it answers (with any status). */
async function noAnswer(url: string): Promise<string | undefined> {
  try {
    await fetch(new URL('/health/live', url), { signal: AbortSignal.timeout(3000) });
    return undefined;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? (error as Error).message;
  }
}

async function isReady(url: string): Promise<boolean> {
  try {
    const answer = await fetch(new URL('/health/ready', url), {
      signal: AbortSignal.timeout(2000),
    });
    await answer.body?.cancel();
    return answer.status === 200;
  } catch {
    return false;
  }
}

/** The message of a start-up line worth showing, from the service's JSON log lines. */
function startupMessage(line: string): string | undefined {
  try {
    const { msg } = JSON.parse(line) as { msg?: unknown };
    // What follows a "; " is advice for a bridge someone runs, not for this one.
    return typeof msg === 'string' && STARTUP_LINE.test(msg) ? msg.split('; ')[0] : undefined;
  } catch {
    return undefined;
  }
}

/** Ports free right now, held together so that they differ. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/**
 * Last resort on Linux: any process still naming the temporary folder in its command line (a
 * postgres backend, initdb) was started by the demo's bridge and would outlive the folder.
 */
function killProcessesUnder(dir: string): void {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) {
        process.kill(Number(pid), 'SIGKILL');
      }
    } catch {
      // gone already, or not ours to read
    }
  }
}
