import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig, type AppConfig } from '../config/app-config.js';
import { fail } from './cli-support.js';

/** Exit status of the chain CLIs. */
export const EXIT = {
  valid: 0,
  /** The chain (or an export line) does not verify, or contradicts a checkpoint or a signature. */
  broken: 1,
  usage: 2,
  /** The database could not be reached; nothing was verified. */
  unavailable: 3,
} as const;

const stderrLog = {
  log: (message: string) => process.stderr.write(`${message}\n`),
  warn: (message: string) => process.stderr.write(`${message}\n`),
};

/** The validated configuration; a configuration problem is a usage error. */
export function loadCliConfig(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, EXIT.usage);
    throw error;
  }
}

export interface ChainDatabase {
  dataSource: DataSource;
  url: string;
  close(): Promise<void>;
}

/**
 * The database the chain lives in: DATABASE_URL when set, else the embedded PostgreSQL under
 * DATA_DIR, started here (it must not be in use by a running bridge, which owns it then).
 * TypeORM and the service are imported only here, so offline verification starts quickly.
 */
export async function openChainDatabase(config: AppConfig): Promise<ChainDatabase> {
  if (config.databaseUrl) {
    const { createDataSource } = await import('../database/data-source.js');
    const dataSource = createDataSource(config.databaseUrl, 2);
    try {
      await dataSource.initialize();
    } catch (error) {
      fail(
        `Cannot reach the database at DATABASE_URL: ${(error as Error).message}`,
        EXIT.unavailable,
      );
    }
    return { dataSource, url: config.databaseUrl, close: () => dataSource.destroy() };
  }
  stderrLog.log(`DATABASE_URL is unset: opening the embedded database under ${config.dataDir}`);
  const { openDatabase } = await import('../bootstrap.js');
  try {
    return await openDatabase(config, stderrLog);
  } catch (error) {
    fail(
      `Cannot open the embedded database: ${(error as Error).message}\n` +
        'A running bridge owns its embedded database: stop it first, or set DATABASE_URL ' +
        `(the embedded server listens on 127.0.0.1:${config.embeddedDatabasePort}, database ` +
        `"bridge", user "postgres", password in ${config.dataDir}/postgres.password).`,
      EXIT.unavailable,
    );
  }
}

/** Progress on stderr every `every` entries, and a closing summary with the rate. */
export class Progress {
  private count = 0;
  private nextReport: number;
  private readonly startedAt = performance.now();

  constructor(
    private readonly verb: string,
    private readonly every = 100_000,
  ) {
    this.nextReport = every;
  }

  add(entries: number): void {
    this.count += entries;
    if (this.count < this.nextReport) return;
    this.nextReport = (Math.floor(this.count / this.every) + 1) * this.every;
    process.stderr.write(`${this.verb} ${this.count} entries (${this.rate()} entries/s)\n`);
  }

  finish(): void {
    const seconds = (performance.now() - this.startedAt) / 1000;
    process.stderr.write(
      `${this.verb} ${this.count} entries in ${seconds.toFixed(2)} s (${this.rate()} entries/s)\n`,
    );
  }

  private rate(): number {
    const seconds = (performance.now() - this.startedAt) / 1000;
    return seconds > 0 ? Math.round(this.count / seconds) : this.count;
  }
}
