import { hostname } from 'node:os';
import { delimiter, resolve } from 'node:path';
import { ProblemsError } from '../common/problems.error.js';

export type Environment = 'development' | 'production' | 'test';

/** Validated configuration (SPEC §9). The only place that reads `process.env` is `loadConfig`. */
export interface AppConfig {
  environment: Environment;
  isProduction: boolean;
  port: number;
  /** `undefined` → the embedded PostgreSQL under `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedDatabasePort: number;
  databasePoolSize: number;
  /** `undefined` → generated once in development (stored in `keysDir/jwt-secret`). */
  jwtSecret: string | undefined;
  jwtIssuer: string;
  keysDir: string;
  maxClockSkewSeconds: number;
  bodyLimitBytes: number;
  /** `undefined` → no file mirrors. */
  logDir: string | undefined;
  logLevel: string;
  nodeId: string;
  bridgeUrl: string;
  /** Carried by the automation runner and plugins instead of the tokens they mint themselves. */
  bridgeToken: string | undefined;
  /** Arm the automation job triggers in the service. Default on; off under NODE_ENV=test. */
  automationEnabled: boolean;
  /** The automation job file (SPEC §8). */
  automationConfigPath: string;
  /** Folders whose plugin files are loaded (`PLUGINS_DIR`, `:`-separated); undefined → built-ins. */
  pluginDirs: string[] | undefined;
  /** Size of the in-memory cache of recently seen nonces; a fast path, never the security bound. */
  nonceCacheSize: number;
  heartbeatIntervalSeconds: number;
  staleAfterMissedHeartbeats: number;
  /**
   * How long readiness answers 503 before the server stops accepting, so load balancers stop
   * routing here first. Default 5 in production, 0 elsewhere.
   */
  shutdownGraceSeconds: number;
  /** Serve Prometheus text at `GET /metrics`. */
  metricsEnabled: boolean;
  /** Interval of the `metrics.jsonl` snapshot (written only when `logDir` is set). */
  metricsSnapshotSeconds: number;
  /** Origin line and key name of signed checkpoints; unique per deployment. */
  checkpointOrigin: string;
  /** Sign a checkpoint once this many entries were appended since the last one; 0 = off. */
  checkpointEveryEntries: number;
  /** Sign a checkpoint of new entries at least this often; 0 = off. */
  checkpointIntervalMinutes: number;
  /** Sign a checkpoint at most this long after the chain grew (SPEC §5); 0 = off. */
  checkpointFreshnessMs: number;
}

export const MIN_PRODUCTION_SECRET_LENGTH = 32;

/**
 * Every environment variable `loadConfig` reads, for tools that write settings for the service
 * (the Kubernetes ConfigMap and its test).
 */
export const CONFIG_ENV_NAMES = [
  'NODE_ENV',
  'PORT',
  'DATABASE_URL',
  'DATA_DIR',
  'EMBEDDED_DATABASE_PORT',
  'DATABASE_POOL_SIZE',
  'JWT_SECRET',
  'JWT_ISSUER',
  'KEYS_DIR',
  'MAX_CLOCK_SKEW_SECONDS',
  'BODY_LIMIT_BYTES',
  'LOG_DIR',
  'LOG_LEVEL',
  'NODE_ID',
  'BRIDGE_URL',
  'BRIDGE_TOKEN',
  'AUTOMATION_ENABLED',
  'AUTOMATION_CONFIG',
  'PLUGINS_DIR',
  'NONCE_CACHE_SIZE',
  'HEARTBEAT_INTERVAL_SECONDS',
  'STALE_AFTER_MISSED_HEARTBEATS',
  'SHUTDOWN_GRACE_SECONDS',
  'METRICS_ENABLED',
  'METRICS_SNAPSHOT_SECONDS',
  'CHECKPOINT_ORIGIN',
  'CHECKPOINT_EVERY_ENTRIES',
  'CHECKPOINT_FRESHNESS_MS',
  'CHECKPOINT_INTERVAL_MINUTES',
] as const;

export type ConfigEnvName = (typeof CONFIG_ENV_NAMES)[number];

/** Whether `name` is set (non-blank), as opposed to left to its default. */
export function isConfigured(name: ConfigEnvName, env: Env = process.env): boolean {
  return env[name]?.trim() ? true : false;
}

/**
 * This process's environment with `overrides` on top, for a child process (a bridge the demo
 * starts, runner nodes): the child keeps PATH and the like. A blank value unsets a setting.
 */
export function environmentWith(
  overrides: Partial<Record<ConfigEnvName, string>>,
  env: Env = process.env,
): Env {
  return { ...env, ...overrides };
}

/** A signed-note key name: printable ASCII, no space and no "+" (C2SP signed-note). */
const CHECKPOINT_ORIGIN = /^[\x21-\x2a\x2c-\x7e]{1,256}$/;

/** Raised with every configuration problem at once, so an operator fixes them in one pass. */
export class ConfigError extends ProblemsError {
  override name = 'ConfigError';

  constructor(problems: string[]) {
    super('Invalid configuration', problems);
  }
}

type Env = Record<string, string | undefined>;

// Kept rather than @nestjs/config + zod: the CLIs and runner nodes load this without a Nest app,
// and each rule here is one line whose message names the variable, its range and the bad value.
class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  text(name: string, fallback: string): string {
    const value = this.env[name]?.trim();
    return value ? value : fallback;
  }

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value ? value : undefined;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    this.problems.push(`${name} must be true or false (got "${raw}")`);
    return fallback;
  }

  url(name: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const raw = this.optional(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const { protocol } = new URL(raw);
      if (!protocols.includes(protocol)) throw new Error();
      return raw;
    } catch {
      this.problems.push(`${name} must be a ${protocols.join(' or ')} URL`);
      return fallback;
    }
  }
}

function readEnvironment(reader: EnvReader): Environment {
  const value = reader.text('NODE_ENV', 'development');
  if (value === 'development' || value === 'production' || value === 'test') return value;
  reader.problems.push(`NODE_ENV must be development, production or test (got "${value}")`);
  return 'development';
}

/** Reads and validates the environment; throws `ConfigError` listing every problem. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
  const reader = new EnvReader(env);
  const environment = readEnvironment(reader);
  const isProduction = environment === 'production';

  const jwtSecret = reader.optional('JWT_SECRET');
  if (isProduction && !jwtSecret) {
    reader.problems.push('JWT_SECRET is required in production');
  } else if (isProduction && jwtSecret && jwtSecret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    reader.problems.push(
      `JWT_SECRET must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production`,
    );
  }

  const logDirSetting = reader.optional('LOG_DIR');
  const config: AppConfig = {
    environment,
    isProduction,
    port: reader.integer('PORT', 8000, 0, 65535),
    databaseUrl: reader.url('DATABASE_URL', undefined, ['postgres:', 'postgresql:']),
    dataDir: resolve(cwd, reader.text('DATA_DIR', './data')),
    embeddedDatabasePort: reader.integer('EMBEDDED_DATABASE_PORT', 54329, 1024, 65535),
    // At least 2: migrations run on one connection while another holds the migration lock.
    databasePoolSize: reader.integer('DATABASE_POOL_SIZE', 10, 2, 200),
    jwtSecret,
    jwtIssuer: reader.text('JWT_ISSUER', 'core-bucket-bridge'),
    keysDir: resolve(cwd, reader.text('KEYS_DIR', './keys')),
    maxClockSkewSeconds: reader.integer('MAX_CLOCK_SKEW_SECONDS', 300, 1, 86400),
    bodyLimitBytes: reader.integer('BODY_LIMIT_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    logDir:
      logDirSetting === 'none'
        ? undefined
        : logDirSetting
          ? resolve(cwd, logDirSetting)
          : isProduction
            ? undefined
            : resolve(cwd, './logs'),
    logLevel: reader.text('LOG_LEVEL', 'info'),
    nodeId: reader.text('NODE_ID', hostname()),
    bridgeUrl: reader.url('BRIDGE_URL', 'http://localhost:8000', ['http:', 'https:']) as string,
    bridgeToken: reader.optional('BRIDGE_TOKEN'),
    automationEnabled: reader.boolean('AUTOMATION_ENABLED', environment !== 'test'),
    automationConfigPath: resolve(
      cwd,
      reader.text('AUTOMATION_CONFIG', './plugins/automation.json'),
    ),
    pluginDirs: reader
      .optional('PLUGINS_DIR')
      ?.split(delimiter)
      .filter((dir) => dir !== '')
      .map((dir) => resolve(cwd, dir)),
    nonceCacheSize: reader.integer('NONCE_CACHE_SIZE', 5000, 0, 10_000_000),
    heartbeatIntervalSeconds: reader.integer('HEARTBEAT_INTERVAL_SECONDS', 60, 1, 86400),
    staleAfterMissedHeartbeats: reader.integer('STALE_AFTER_MISSED_HEARTBEATS', 3, 1, 1000),
    shutdownGraceSeconds: reader.integer('SHUTDOWN_GRACE_SECONDS', isProduction ? 5 : 0, 0, 300),
    metricsEnabled: reader.boolean('METRICS_ENABLED', true),
    metricsSnapshotSeconds: reader.integer('METRICS_SNAPSHOT_SECONDS', 60, 1, 86400),
    checkpointOrigin: reader.text('CHECKPOINT_ORIGIN', 'core-bucket-bridge'),
    checkpointEveryEntries: reader.integer('CHECKPOINT_EVERY_ENTRIES', 1000, 0, 1_000_000_000),
    checkpointIntervalMinutes: reader.integer('CHECKPOINT_INTERVAL_MINUTES', 60, 0, 10_080),
    checkpointFreshnessMs: reader.integer('CHECKPOINT_FRESHNESS_MS', 1000, 0, 3_600_000),
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    reader.problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  if (!CHECKPOINT_ORIGIN.test(config.checkpointOrigin)) {
    reader.problems.push(
      'CHECKPOINT_ORIGIN must be 1-256 printable ASCII characters without spaces or "+" (e.g. bridge.example.com/prod)',
    );
  }
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return config;
}
