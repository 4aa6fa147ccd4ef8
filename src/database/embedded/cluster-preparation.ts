import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterPaths } from './embedded-postgres.js';
import { hasErrorCode } from './fs-process.js';

// Cluster preparation: the superuser password file, and what the `postgres` OS user may access.

interface OsUserIds {
  uid: number;
  gid: number;
}

/** The OS account the library runs the binaries as when we are root. */
const POSTGRES_OS_USER = 'postgres';

const execFileAsync = promisify(execFile);

/** A random superuser password, fixed at initdb time and kept next to the cluster. */
export async function readOrCreatePassword(
  passwordFile: string,
  isNewCluster: boolean,
): Promise<string> {
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
export async function preparePermissions(paths: ClusterPaths): Promise<void> {
  if (!isRoot()) return;
  const ids = await lookupOsUser(POSTGRES_OS_USER);
  // Missing user: the library creates it during initialise() and chowns the new cluster itself.
  if (ids === undefined) return;
  await grantSearchPermission(paths.dataDir, ids);
  await assertAncestorsSearchable(dirname(paths.dataDir), ids);
  await ensureClusterOwnership(paths.clusterDir, ids);
}

export function isRoot(): boolean {
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
