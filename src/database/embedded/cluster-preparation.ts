import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { ClusterPaths } from './embedded-postgres.js';
import { hasErrorCode, pathExists } from './fs-process.js';
import type { PostgresRuntime } from './postgres-server.js';

// Cluster preparation: the superuser password file, and what the `postgres` OS user may access.

export interface OsUserIds {
  uid: number;
  gid: number;
}

/** The OS account that runs the binaries when we are root (postgres refuses to run as root). */
const POSTGRES_OS_USER = 'postgres';

/**
 * As root, a data directory or binaries that the `postgres` user cannot reach (a clone in root's
 * 0700 home) are kept here instead: `<root>/<hash of the data directory>/` and
 * `<root>/binaries-<hash of the binaries' path>-<hash of the postgres binary's identity>/`.
 */
export const ROOT_EMBEDDED_HOME = '/var/lib/core-bucket-bridge';

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

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** As root: the `postgres` OS user's ids; otherwise `undefined` (the binaries run as ourselves). */
export async function postgresOsUser(): Promise<OsUserIds | undefined> {
  if (!isRoot()) return undefined;
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', POSTGRES_OS_USER]),
      execFileAsync('id', ['-g', POSTGRES_OS_USER]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    throw new Error(
      `Embedded PostgreSQL refuses to run as root and there is no OS user "${POSTGRES_OS_USER}" ` +
        `to run it as: create one (useradd --system ${POSTGRES_OS_USER}) or set DATABASE_URL`,
    );
  }
}

/**
 * The data directory as configured, or, when `postgres` cannot enter one of its parents (root's
 * 0700 home), a directory of its own under ROOT_EMBEDDED_HOME that every later start finds again.
 */
export async function reachableDataDir(
  dataDir: string,
  user: OsUserIds | undefined,
): Promise<string> {
  if (user === undefined || (await firstUnsearchable(dirname(dataDir), user)) === undefined) {
    return dataDir;
  }
  await ensureRootHome();
  const relocated = join(ROOT_EMBEDDED_HOME, pathHash(dataDir));
  await mkdir(relocated, { recursive: true, mode: 0o700 });
  return relocated;
}

/**
 * The binaries in place, or, when `postgres` cannot reach them, a copy under ROOT_EMBEDDED_HOME
 * (made once: a finished copy is renamed into place). The copy's name also holds the identity
 * (size and modification time) of the `postgres` binary, so that after `npm install` brings other
 * binaries a fresh copy is made instead of running the old ones; older copies of the same path
 * are removed then.
 */
export async function prepareRuntime(
  binDir: string,
  user: OsUserIds | undefined,
): Promise<PostgresRuntime> {
  if (user === undefined || (await firstUnsearchable(binDir, user)) === undefined) {
    return { binDir, runAs: user };
  }
  const installDir = dirname(binDir); // bin/, lib/ and share/ belong together
  const binary = await stat(join(binDir, 'postgres'));
  const prefix = `binaries-${pathHash(installDir)}-`;
  const name = prefix + pathHash(`${binary.size}:${binary.mtimeMs}`);
  const copy = join(ROOT_EMBEDDED_HOME, name);
  await ensureRootHome();
  if (!(await pathExists(copy))) {
    const partial = `${copy}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await cp(installDir, partial, { recursive: true, verbatimSymlinks: true });
    await rename(partial, copy);
    for (const entry of await readdir(ROOT_EMBEDDED_HOME))
      if (entry.startsWith(prefix) && entry !== name && !entry.includes('.partial-'))
        await rm(join(ROOT_EMBEDDED_HOME, entry), { recursive: true, force: true });
  }
  return { binDir: join(copy, 'bin'), runAs: user };
}

/** Root's, and enterable (not listable) by `postgres`. */
async function ensureRootHome(): Promise<void> {
  await mkdir(ROOT_EMBEDDED_HOME, { recursive: true });
  await chmod(ROOT_EMBEDDED_HOME, 0o711);
}

function pathHash(path: string): string {
  return createHash('sha256').update(path).digest('hex').slice(0, 16);
}

/**
 * As root the binaries run as the `postgres` OS user. That user must be able to enter the data
 * directory and must own the cluster directory.
 */
export async function preparePermissions(
  paths: ClusterPaths,
  user: OsUserIds | undefined,
): Promise<void> {
  if (user === undefined) return;
  await grantSearchPermission(paths.dataDir, user);
  const blocked = await firstUnsearchable(dirname(paths.dataDir), user);
  if (blocked !== undefined) {
    throw new Error(
      `Embedded PostgreSQL runs as OS user "${POSTGRES_OS_USER}", which cannot enter ${blocked}. ` +
        `Choose a data directory outside it, or grant search permission (chmod o+x ${blocked}).`,
    );
  }
  await ensureClusterOwnership(paths.clusterDir, user);
}

/** The data dir is ours (e.g. created 0700 by root): add search (x) permission only, not read. */
async function grantSearchPermission(dir: string, ids: OsUserIds): Promise<void> {
  const stats = await stat(dir);
  if (!canSearch(stats, ids)) {
    await chmod(dir, (stats.mode & 0o7777) | 0o001);
  }
}

/** The first directory from `start` up to `/` that `ids` cannot enter; missing ones are skipped. */
async function firstUnsearchable(start: string, ids: OsUserIds): Promise<string | undefined> {
  for (let dir = start; ; dir = dirname(dir)) {
    let stats: Stats | undefined;
    try {
      stats = await stat(dir);
    } catch (error) {
      if (!hasErrorCode(error, 'ENOENT')) throw error;
    }
    if (stats && !canSearch(stats, ids)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Checks mode bits as postgres runs: with the user's uid and primary gid only
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
