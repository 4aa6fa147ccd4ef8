import { readFile, stat } from 'node:fs/promises';
import { types } from 'node:util';

// Small file, process and error helpers shared by the embedded database files.

/** First line of a pid file as a number; undefined if the file is missing or malformed. */
export async function readPidFile(file: string): Promise<number | undefined> {
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

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) return false;
    throw error;
  }
}

export async function isProcessAlive(pid: number): Promise<boolean> {
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

// Duck-typed rather than `instanceof Error`: errors may come from another realm (e.g. jest's vm).
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}

export function describe(error: unknown): string {
  return types.isNativeError(error) ? error.message : String(error);
}
