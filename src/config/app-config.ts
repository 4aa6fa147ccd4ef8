import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { delimiter, resolve } from 'node:path';
import { parseJobs } from '../automation/jobs/job-config.js';
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
  /**
   * Secrets that verify tokens but never sign them, for rotation (docs/key-rotation.md): the next
   * secret, until every replica knows it, then the secret it replaced, until its tokens expired.
   */
  jwtVerifyOnlySecrets: string[];
  jwtIssuer: string;
  /** `undefined` → tokens carry no `aud` and none is checked. */
  jwtAudience: string | undefined;
  /** The longest life a token may claim (`exp` − `iat`, or `exp` − now without `iat`). */
  jwtMaxLifetimeSeconds: number;
  keysDir: string;
  maxClockSkewSeconds: number;
  bodyLimitBytes: number;
  /** Express `trust proxy`: `false` → the peer address is the client; else hops or addresses. */
  trustProxy: false | number | string[];
  /** Requests per `rateLimitWindowSeconds` from one client address; 0 = no limit. */
  rateLimitPerAddress: number;
  /** Requests per window carrying one token subject (or one token without `sub`); 0 = no limit. */
  rateLimitPerSubject: number;
  rateLimitWindowSeconds: number;
  /** Node's `server.headersTimeout`, `requestTimeout` and `keepAliveTimeout`. */
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
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
  /** Rows of `security_rejections` older than this are deleted (the counters keep every one). */
  securityRejectionsRetentionDays: number;
  /** A `LOG_DIR` mirror file is rotated when it would grow past this size. */
  logMirrorMaxBytes: number;
  /** Rotated copies kept of each mirror file (`<file>.1` newest … `<file>.N`). */
  logMirrorFiles: number;
  /** Distinct `automation-…` modules that automation-only tokens may create (heartbeat as). */
  automationModulesMax: number;
}

export const MIN_PRODUCTION_SECRET_LENGTH = 32;
/** Estimated bits (see `estimatedSecretBits`) a production `JWT_SECRET` must reach. */
export const MIN_PRODUCTION_SECRET_BITS = 100;
/**
 * Secrets `JWT_VERIFY_ONLY_SECRETS` may list: a token signed by none of the secrets costs one HMAC
 * per secret before it is refused, and more than a few means one was forgotten.
 */
export const MAX_VERIFY_ONLY_JWT_SECRETS = 4;

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
  'JWT_VERIFY_ONLY_SECRETS',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'JWT_MAX_LIFETIME_SECONDS',
  'KEYS_DIR',
  'MAX_CLOCK_SKEW_SECONDS',
  'BODY_LIMIT_BYTES',
  'TRUST_PROXY',
  'RATE_LIMIT_PER_ADDRESS',
  'RATE_LIMIT_PER_SUBJECT',
  'RATE_LIMIT_WINDOW_SECONDS',
  'HTTP_HEADERS_TIMEOUT_MS',
  'HTTP_REQUEST_TIMEOUT_MS',
  'HTTP_KEEP_ALIVE_TIMEOUT_MS',
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
  'SECURITY_REJECTIONS_RETENTION_DAYS',
  'LOG_MIRROR_MAX_BYTES',
  'LOG_MIRROR_FILES',
  'AUTOMATION_MODULES_MAX',
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

/**
 * Bits of a secret estimated from the frequency of its characters (length × Shannon entropy per
 * character). It catches secrets made of few or repeated symbols (32 × "a" → 0); it cannot prove
 * that a secret was drawn at random. 32 random hex digits come to about 115.
 */
export function estimatedSecretBits(secret: string): number {
  const counts = new Map<string, number>();
  for (const char of secret) counts.set(char, (counts.get(char) ?? 0) + 1);
  const length = [...secret].length;
  let bits = 0;
  for (const count of counts.values()) bits -= count * Math.log2(count / length);
  return bits;
}

/** Why `secret` (named `name` in the message) is too weak for production, or undefined. */
function weakSecretProblem(name: string, secret: string): string | undefined {
  if (secret.length < MIN_PRODUCTION_SECRET_LENGTH) {
    return `${name} must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production`;
  }
  const bits = estimatedSecretBits(secret);
  if (bits < MIN_PRODUCTION_SECRET_BITS) {
    return `${name} has too little entropy for production (about ${Math.floor(bits)} bits, at least ${MIN_PRODUCTION_SECRET_BITS} needed: it repeats few characters); use a random one, e.g. openssl rand -base64 48`;
  }
  return undefined;
}

/**
 * `JWT_VERIFY_ONLY_SECRETS`: secrets separated by commas or newlines (base64 and hex secrets hold
 * neither), blanks and repeats dropped; one equal to `JWT_SECRET` adds nothing and is dropped too.
 */
export function parseVerifyOnlySecrets(raw: string | undefined, current?: string): string[] {
  const secrets = (raw ?? '')
    .split(/[,\n]/)
    .map((secret) => secret.trim())
    .filter((secret) => secret !== '' && secret !== current);
  return [...new Set(secrets)];
}

function readVerifyOnlySecrets(reader: EnvReader, current: string | undefined): string[] {
  const secrets = parseVerifyOnlySecrets(reader.optional('JWT_VERIFY_ONLY_SECRETS'), current);
  if (secrets.length > MAX_VERIFY_ONLY_JWT_SECRETS) {
    reader.problems.push(
      `JWT_VERIFY_ONLY_SECRETS lists ${secrets.length} secrets, at most ${MAX_VERIFY_ONLY_JWT_SECRETS} are accepted (remove those whose tokens have expired)`,
    );
  }
  return secrets.slice(0, MAX_VERIFY_ONLY_JWT_SECRETS);
}

/** Names, addresses or CIDR ranges Express's `trust proxy` accepts, e.g. `10.0.0.0/8,loopback`. */
const TRUSTED_PROXY = /^(loopback|linklocal|uniquelocal|[0-9a-fA-F.:]+(\/\d{1,3})?)$/;

/**
 * `TRUST_PROXY`: unset or `false` → the TCP peer is the client (X-Forwarded-For is ignored); a
 * number → that many proxies in front, whose X-Forwarded-For entries are believed; a list → the
 * proxies at those addresses are believed. `true` (believe any proxy) is refused: any client could
 * then choose its own address, and with it its rate-limit bucket.
 */
function readTrustProxy(reader: EnvReader): false | number | string[] {
  const raw = reader.optional('TRUST_PROXY');
  if (raw === undefined || /^(false|0|no|off)$/i.test(raw)) return false;
  if (/^\d+$/.test(raw)) return reader.integer('TRUST_PROXY', 0, 0, 10);
  const proxies = raw.split(',').map((entry) => entry.trim());
  if (proxies.every((entry) => TRUSTED_PROXY.test(entry))) return proxies;
  reader.problems.push(
    `TRUST_PROXY must be false, a number of proxy hops (1-10), or a comma-separated list of proxy addresses, CIDR ranges, loopback, linklocal or uniquelocal (got "${raw}")`,
  );
  return false;
}

function readEnvironment(reader: EnvReader): Environment {
  const value = reader.text('NODE_ENV', 'development');
  if (value === 'development' || value === 'production' || value === 'test') return value;
  reader.problems.push(`NODE_ENV must be development, production or test (got "${value}")`);
  return 'development';
}

/** Reads and validates the environment; throws `ConfigError` listing every problem. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
  const { config, problems } = readConfig(env, cwd);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * What the service needs before it touches the database: the environment, the automation job
 * file (syntax and schema; plugin names are checked once plugins are discovered) and a free
 * `PORT`, every problem reported at once.
 */
export async function loadServiceConfig(
  env: Env = process.env,
  cwd = process.cwd(),
): Promise<AppConfig> {
  const { config, problems } = readConfig(env, cwd);
  problems.push(...jobFileProblems(config.automationConfigPath));
  if (!problems.some((problem) => problem.startsWith('PORT '))) {
    const portProblem = await portInUseProblem(config.port);
    if (portProblem) problems.push(portProblem);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function jobFileProblems(path: string): string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return [`AUTOMATION_CONFIG ${path} cannot be read as JSON: ${(error as Error).message}`];
  }
  return parseJobs(raw).problems.map((problem) => `AUTOMATION_CONFIG ${path}: ${problem}`);
}

/** A bind-and-release probe; port 0 (any free port) never collides. */
async function portInUseProblem(port: number): Promise<string | undefined> {
  if (port === 0) return undefined;
  return new Promise((resolvePromise) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      resolvePromise(
        error.code === 'EADDRINUSE'
          ? `PORT ${port}: the port is already in use (set PORT to another port)`
          : `PORT ${port} cannot be used: ${error.message}`,
      ),
    );
    probe.listen(port, () => probe.close(() => resolvePromise(undefined)));
  });
}

function readConfig(env: Env, cwd: string): { config: AppConfig; problems: string[] } {
  const reader = new EnvReader(env);
  const environment = readEnvironment(reader);
  const isProduction = environment === 'production';

  const jwtSecret = reader.optional('JWT_SECRET');
  if (isProduction && !jwtSecret) reader.problems.push('JWT_SECRET is required in production');
  const jwtVerifyOnlySecrets = readVerifyOnlySecrets(reader, jwtSecret);
  if (isProduction) {
    const secrets = [
      ...(jwtSecret ? [{ name: 'JWT_SECRET', secret: jwtSecret }] : []),
      ...jwtVerifyOnlySecrets.map((secret, index) => ({
        name: `JWT_VERIFY_ONLY_SECRETS entry ${index + 1}`,
        secret,
      })),
    ];
    for (const { name, secret } of secrets) {
      const problem = weakSecretProblem(name, secret);
      if (problem) reader.problems.push(problem);
    }
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
    jwtVerifyOnlySecrets,
    jwtIssuer: reader.text('JWT_ISSUER', 'core-bucket-bridge'),
    jwtAudience: reader.optional('JWT_AUDIENCE'),
    // 30 days: long enough for an operator-minted BRIDGE_TOKEN, short enough that a leaked token
    // or one minted with a typo'd --ttl does not live for years.
    jwtMaxLifetimeSeconds: reader.integer('JWT_MAX_LIFETIME_SECONDS', 30 * 86400, 60, 366 * 86400),
    keysDir: resolve(cwd, reader.text('KEYS_DIR', './keys')),
    maxClockSkewSeconds: reader.integer('MAX_CLOCK_SKEW_SECONDS', 300, 1, 86400),
    bodyLimitBytes: reader.integer('BODY_LIMIT_BYTES', 256 * 1024, 1024, 64 * 1024 * 1024),
    trustProxy: readTrustProxy(reader),
    // Per second by default, generous for one client (all clients behind an ingress share one
    // address unless TRUST_PROXY is set); the benchmark raises both.
    rateLimitPerAddress: reader.integer('RATE_LIMIT_PER_ADDRESS', 2000, 0, 10_000_000),
    rateLimitPerSubject: reader.integer('RATE_LIMIT_PER_SUBJECT', 1000, 0, 10_000_000),
    rateLimitWindowSeconds: reader.integer('RATE_LIMIT_WINDOW_SECONDS', 1, 1, 3600),
    // Headers must arrive within 10 s and a whole request within 30 s (a body of BODY_LIMIT_BYTES
    // needs a client slower than 9 KB/s to miss that), so slow senders cannot hold sockets open.
    // Idle keep-alive connections stay 65 s, longer than the 60 s idle timeout of common load
    // balancers and ingresses, so the proxy, not this server, closes them (no racing 502s).
    httpHeadersTimeoutMs: reader.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, 1000, 600_000),
    httpRequestTimeoutMs: reader.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 1000, 3_600_000),
    httpKeepAliveTimeoutMs: reader.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 65_000, 1000, 600_000),
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
    securityRejectionsRetentionDays: reader.integer(
      'SECURITY_REJECTIONS_RETENTION_DAYS',
      30,
      1,
      3650,
    ),
    logMirrorMaxBytes: reader.integer('LOG_MIRROR_MAX_BYTES', 64 * 1024 * 1024, 4096, 2 ** 40),
    logMirrorFiles: reader.integer('LOG_MIRROR_FILES', 5, 1, 100),
    automationModulesMax: reader.integer('AUTOMATION_MODULES_MAX', 1000, 1, 1_000_000),
  };
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(config.logLevel)) {
    reader.problems.push(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  if (!CHECKPOINT_ORIGIN.test(config.checkpointOrigin)) {
    reader.problems.push(
      'CHECKPOINT_ORIGIN must be 1-256 printable ASCII characters without spaces or "+" (e.g. bridge.example.com/prod)',
    );
  }
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    reader.problems.push('HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  return { config, problems: reader.problems };
}
