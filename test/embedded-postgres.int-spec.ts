import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import {
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '../src/database/embedded/embedded-postgres.js';
import { isProcessAlive } from '../src/database/embedded/fs-process.js';

/** Ports of their own: never the app default (54329) nor a system PostgreSQL (5432). */
const PERSIST_PORT = 54391;
const ORPHAN_PORT = 54392;
const FOREIGN_LOCK_PORT = 54393;
const STALE_PID_PORT = 54394;

const dataDirs: string[] = [];
const running: EmbeddedDatabase[] = [];
const children: ChildProcess[] = [];
const warnings: string[] = [];
const logger = {
  log: (): void => undefined,
  warn: (message: string): void => void warnings.push(message),
};

function newDataDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `bridge-embedded-pg-${name}-`));
  dataDirs.push(dir);
  return dir;
}

async function start(dataDir: string, port: number): Promise<EmbeddedDatabase> {
  const db = await startEmbeddedPostgres({ dataDir, port, logger });
  running.push(db);
  return db;
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function insertNote(url: string, note: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('CREATE TABLE IF NOT EXISTS notes (note text NOT NULL)');
    await client.query('INSERT INTO notes (note) VALUES ($1)', [note]);
  });
}

async function readNotes(url: string): Promise<string[]> {
  const result = await withClient(url, (client) =>
    client.query<{ note: string }>('SELECT note FROM notes ORDER BY note'),
  );
  return result.rows.map((row) => row.note);
}

function readPid(file: string): number {
  return Number.parseInt(readFileSync(file, 'utf8').split('\n', 1)[0] ?? '', 10);
}

/** A Node process that starts the cluster with the library directly, as a bridge would, then idles. */
function spawnServerProcess(dataDir: string, port: number): ChildProcess {
  const library = createRequire(join(process.cwd(), 'package.json')).resolve('embedded-postgres');
  const script = join(dataDir, 'start-server.mjs');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
import EmbeddedPostgres from ${JSON.stringify(pathToFileURL(library).href)};
const [clusterDir, port, lockFile] = process.argv.slice(2);
writeFileSync(lockFile, process.pid + '\\n');
const server = new EmbeddedPostgres({
  databaseDir: clusterDir,
  port: Number(port),
  persistent: true,
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  onLog: () => {},
  onError: (error) => console.error(error),
});
await server.start();
console.log('ready');
setInterval(() => {}, 60_000);
`,
  );
  const child = spawn(
    process.execPath,
    [script, join(dataDir, 'postgres'), String(port), join(dataDir, 'bridge.pid')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return child;
}

function waitForLine(child: ChildProcess, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.trim() === expected) resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`child exited (${code ?? signal}) before "${expected}": ${stderr}`)),
    );
  });
}

async function exitedProcessPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid!;
}

afterAll(async () => {
  await Promise.allSettled(running.map((db) => db.stop()));
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dataDirs) {
    // A failed orphan test may leave a postmaster behind: end it before deleting its files.
    const pidFile = join(dir, 'postgres', 'postmaster.pid');
    if (existsSync(pidFile) && (await isProcessAlive(readPid(pidFile))))
      process.kill(readPid(pidFile), 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('startEmbeddedPostgres', () => {
  it('keeps data across a stop and a restart on the same data directory', async () => {
    const dataDir = newDataDir('persist');

    const first = await start(dataDir, PERSIST_PORT);
    expect(first.url).toMatch(
      new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${PERSIST_PORT}/bridge$`),
    );
    expect(readPid(join(dataDir, 'bridge.pid'))).toBe(process.pid);
    await insertNote(first.url, 'kept');
    await first.stop();
    await first.stop(); // idempotent
    expect(existsSync(join(dataDir, 'bridge.pid'))).toBe(false);

    const second = await start(dataDir, PERSIST_PORT);
    expect(await readNotes(second.url)).toEqual(['kept']);
    await second.stop();
  });

  it('stops a postgres left running by a SIGKILLed process and starts anew with the data intact', async () => {
    const dataDir = newDataDir('orphan');
    const seed = await start(dataDir, ORPHAN_PORT);
    await insertNote(seed.url, 'before crash');
    await seed.stop();

    const child = spawnServerProcess(dataDir, ORPHAN_PORT);
    await waitForLine(child, 'ready');
    const orphanPid = readPid(join(dataDir, 'postgres', 'postmaster.pid'));
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    expect(await isProcessAlive(orphanPid)).toBe(true); // the scenario: postgres outlived its parent
    expect(readPid(join(dataDir, 'bridge.pid'))).toBe(child.pid); // a stale lock

    const recovered = await start(dataDir, ORPHAN_PORT);
    expect(readPid(join(dataDir, 'postgres', 'postmaster.pid'))).not.toBe(orphanPid);
    expect(readPid(join(dataDir, 'bridge.pid'))).toBe(process.pid);
    expect(await readNotes(recovered.url)).toEqual(['before crash']);
    expect(
      warnings.some((w) => w.includes(`orphaned embedded PostgreSQL (pid ${orphanPid})`)),
    ).toBe(true);
    await recovered.stop();
  });

  it('refuses a data directory locked by another live process', async () => {
    const dataDir = newDataDir('foreign');
    const other = spawn('sleep', ['30']);
    children.push(other);
    await once(other, 'spawn');
    const lockFile = join(dataDir, 'bridge.pid');
    writeFileSync(lockFile, `${other.pid}\n`);

    await expect(
      startEmbeddedPostgres({ dataDir, port: FOREIGN_LOCK_PORT, logger }),
    ).rejects.toThrow(`is in use by another bridge process (pid ${other.pid})`);
    expect(readPid(lockFile)).toBe(other.pid);
    expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
  });

  it('starts despite a stale postmaster.pid and a stale lock whose pids are dead', async () => {
    const dataDir = newDataDir('stale');
    const seed = await start(dataDir, STALE_PID_PORT);
    const postmasterPidFile = join(dataDir, 'postgres', 'postmaster.pid');
    const [, ...postmasterDetails] = readFileSync(postmasterPidFile, 'utf8').split('\n');
    await seed.stop();

    const deadPid = await exitedProcessPid();
    writeFileSync(postmasterPidFile, [String(deadPid), ...postmasterDetails].join('\n'));
    writeFileSync(join(dataDir, 'bridge.pid'), `${deadPid}\n`);

    const db = await start(dataDir, STALE_PID_PORT);
    const result = await withClient(db.url, (client) => client.query('SELECT 1 AS one'));
    expect(result.rows).toEqual([{ one: 1 }]);
    await db.stop();
  });
});
