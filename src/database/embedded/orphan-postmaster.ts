import { realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { EmbeddedDatabaseLogger } from './embedded-postgres.js';
import { hasErrorCode, isProcessAlive, readPidFile } from './fs-process.js';

// Orphan recovery: a SIGKILLed bridge leaves its postmaster running on our data directory.

export const FAST_SHUTDOWN_TIMEOUT_MS = 30_000;
const IMMEDIATE_SHUTDOWN_TIMEOUT_MS = 10_000;
const POLL_INTERVAL_MS = 50;

export async function stopOrphanedPostmaster(
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
export async function shutdownPostmaster(
  pid: number,
  requestFastShutdown: () => void,
): Promise<void> {
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

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (!hasErrorCode(error, 'ESRCH')) throw error;
  }
}
