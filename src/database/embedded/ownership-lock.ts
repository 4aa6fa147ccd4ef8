import { rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { hasErrorCode, isProcessAlive, readPidFile } from './fs-process.js';

// Ownership lock: <dataDir>/bridge.pid holds the pid of the Node process that owns the cluster.

export async function acquireLock(lockFile: string): Promise<void> {
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

export async function releaseLock(lockFile: string): Promise<void> {
  // Never delete a lock that a newer owner has taken over.
  if ((await readPidFile(lockFile)) === process.pid) {
    await rm(lockFile, { force: true });
  }
}
