import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Every PostgreSQL advisory lock key the service takes, in one list so no two concerns share one
 * by accident. The values never change: replicas of different versions must take the same keys.
 */
export enum AdvisoryLock {
  /** Replicas starting together migrate one after another. */
  Migrations = 0x62726467, // "brdg"
  /**
   * Serializes chain appends. Taken only inside `ingest_events` (src/provenance/ingest-events.sql),
   * which writes the value as a literal; advisory-lock.spec.ts holds the two equal.
   */
  ChainAppend = 0x63686e, // "chn"
  /** One replica at a time verifies and signs a checkpoint. */
  Checkpoint = 0x63706b, // "cpk"
  /** First key of a cluster job's two-key lock; the second is `hashtext(job)`. */
  AutomationJob = 0x6175746f, // "auto"
}

/** A one-key lock, or a two-key lock whose second key is `hashtext(name)`. */
export type AdvisoryLockKey = AdvisoryLock | readonly [AdvisoryLock, string];

export interface AdvisoryLockOptions {
  /** Wait for the lock, or give up at once when another session holds it. */
  wait: boolean;
  /**
   * `transaction`: released at commit, or when the connection dies, whatever else fails.
   * `session`: for work that runs its own transactions while the lock is held (migrations).
   */
  scope: 'transaction' | 'session';
}

/** A session lock held on a connection of its own until `release()`. */
export interface HeldAdvisoryLock {
  release(): Promise<void>;
}

/**
 * Runs `work` while `key` is held on a connection of its own; undefined, without running `work`,
 * when `wait` is false and another session holds it. `work` queries on pooled connections as
 * usual: the lock scopes it in time, not in a transaction.
 */
export function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: AdvisoryLockKey,
  work: () => Promise<T>,
  options: AdvisoryLockOptions & { wait: true },
): Promise<T>;
export function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: AdvisoryLockKey,
  work: () => Promise<T>,
  options: AdvisoryLockOptions,
): Promise<T | undefined>;
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: AdvisoryLockKey,
  work: () => Promise<T>,
  { wait, scope }: AdvisoryLockOptions,
): Promise<T | undefined> {
  if (scope === 'session') {
    const held = await acquireSessionLock(dataSource, key, { wait });
    if (!held) return undefined;
    try {
      return await work();
    } finally {
      // A failed unlock means a broken connection, and the lock died with it; the work stands.
      await held.release().catch(() => undefined);
    }
  }
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    const result = (await lock(runner, key, wait, 'xact_')) ? await work() : undefined;
    await runner.commitTransaction();
    return result;
  } finally {
    if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    await runner.release();
  }
}

/**
 * Takes `key` as a session lock on a connection of its own, for a lock that outlives one call
 * (a cluster job's run, handed from its start to its completion). Undefined when `wait` is false
 * and another session holds it.
 */
export async function acquireSessionLock(
  dataSource: DataSource,
  key: AdvisoryLockKey,
  { wait }: Pick<AdvisoryLockOptions, 'wait'>,
): Promise<HeldAdvisoryLock | undefined> {
  const connection = dataSource.createQueryRunner();
  await connection.connect();
  try {
    if (!(await lock(connection, key, wait, ''))) {
      await connection.release();
      return undefined;
    }
  } catch (error) {
    await connection.release();
    throw error;
  }
  return {
    release: async () => {
      try {
        const [unlock, parameters] = call('pg_advisory_unlock', key);
        await connection.query(`SELECT ${unlock}`, parameters);
      } finally {
        await connection.release();
      }
    },
  };
}

/** True once `key` is held; false when `wait` is false and another session holds it. */
async function lock(
  runner: QueryRunner,
  key: AdvisoryLockKey,
  wait: boolean,
  scope: 'xact_' | '',
): Promise<boolean> {
  const [sql, parameters] = call(`pg_${wait ? '' : 'try_'}advisory_${scope}lock`, key);
  const [{ locked }]: Array<{ locked: boolean }> = await runner.query(
    wait ? `SELECT true AS locked FROM ${sql}` : `SELECT ${sql} AS locked`,
    parameters,
  );
  return locked;
}

function call(name: string, key: AdvisoryLockKey): [sql: string, parameters: unknown[]] {
  return typeof key === 'number'
    ? [`${name}($1)`, [key]]
    : [`${name}($1, hashtext($2))`, [key[0], key[1]]];
}
