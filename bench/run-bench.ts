/**
 * `npm run bench [-- --smoke] [-- --duration S --connections N --replicas R --dashboards D --skip-baseline]`
 *
 * 1. Starts the service in production mode on a fresh database (DATABASE_URL's server, default the
 *    local PostgreSQL) and drives POST /core/update with autocannon after a warm-up, using bodies
 *    signed beforehand across several modules. Reports accepted/s, p50/p95/p99, every non-201
 *    answer, the service's peak RSS and its CPU time per accepted update.
 * 2. Does the same against the minimal baseline server (bench/baseline-server.ts) and prints the
 *    ratio service / baseline.
 * 3. Builds a chain directly in a database and times `chain:verify` over it (entries/s, peak RSS).
 *
 * `--replicas R` runs R service processes on the one database, the load shared between them, as
 * replicas behind a Kubernetes Service would be (peak RSS is then their sum).
 *
 * `--dashboards D` keeps D InsightFlow live streams open on the service (spread over its replicas)
 * during its warm-up and measured phase, to compare ingestion with and without open dashboards.
 *
 * `--smoke` runs a tiny version of all three to prove the harness works; it asserts no speed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import jsonwebtoken from 'jsonwebtoken';
import pg from 'pg';
import { generateKeyFiles } from '../src/security/key-files.js';
import { createChainFixture } from './chain-fixture.js';
import { openDashboards } from './dashboards.js';
import { presignUpdates } from './presign.js';
import { PeakRss } from './peak-rss.js';
import { cpuSecondsOf } from './process-cpu.js';

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'chain-entries': { type: 'string' },
    'skip-baseline': { type: 'boolean', default: false },
    replicas: { type: 'string' },
    dashboards: { type: 'string' },
  },
});
const smoke = flags.smoke ?? false;
const settings = {
  durationSeconds: Number(flags.duration ?? (smoke ? 2 : 20)),
  warmupSeconds: Number(flags.warmup ?? (smoke ? 1 : 5)),
  connections: Number(flags.connections ?? (smoke ? 4 : 64)),
  chainEntries: Number(flags['chain-entries'] ?? (smoke ? 2_000 : 1_000_000)),
  /** Service processes on one database, sharing the connections (replicas behind a Service). */
  replicas: Number(flags.replicas ?? 1),
  /** InsightFlow streams kept open on the service while it is measured. */
  dashboards: Number(flags.dashboards ?? 0),
  /** Signed bodies for the warm-up; the measured phase is sized from the warm-up's rate. */
  warmupRequests: smoke ? 300 : 30_000,
  modules: ['module-a', 'module-b', 'module-c', 'module-d'],
};
/**
 * `npm run start:prod` without npm in between (so the service's own pid is measured): its node
 * flags and entry point. The baseline runs with the same flags.
 */
const PRODUCTION = (() => {
  const packageJson = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { scripts: Record<string, string> };
  const [node, ...args] = packageJson.scripts['start:prod'].trim().split(/\s+/);
  if (node !== 'node' || args.length === 0)
    throw new Error('start:prod must be "node [flags] <entry>"');
  return { nodeFlags: args.slice(0, -1), entry: args[args.length - 1] };
})();
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const JWT_SECRET = 'benchmark-secret-benchmark-secret-0123456789';

interface LoadFigures {
  accepted: number;
  acceptedPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  otherAnswers: Record<string, number>;
  errors: number;
  peakRssMb: number;
  /** CPU the server processes used in the measured phase per accepted update: a steadier figure than the rate on a shared machine. */
  cpuMicrosecondsPerAccepted: number;
  /** With `--dashboards`: the streams kept open and the snapshots they received. */
  dashboards?: { streams: number; snapshotsReceived: number };
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function withDatabase<T>(label: string, use: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_${label}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await use(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

function start(script: string, env: Record<string, string>): ChildProcess {
  const command = [...PRODUCTION.nodeFlags, script];
  const child = spawn(process.execPath, command, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM')
      log(`${command.join(' ')} exited with ${code ?? signal}`);
  });
  return child;
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`no answer from ${url}`);
}

async function waitForReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const status = await fetch(url).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${url} never answered 200`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * One autocannon run that sends each signed body exactly once (`amount`), so no answer is a
 * replay; the rate is accepted answers over the run's own duration.
 */
async function drive(
  baseUrls: string[],
  token: string,
  bodies: string[],
): Promise<
  Omit<LoadFigures, 'peakRssMb' | 'cpuMicrosecondsPerAccepted'> & {
    seconds: number;
    /** Answers per second over the run's second half, once the process has warmed up. */
    secondHalfPerSecond: number;
  }
> {
  const latencies: number[] = [];
  const answers: Record<string, number> = {};
  let next = 0;
  // autocannon ends `amount` runs on its one-second tick; time the answers themselves.
  const startedAt = process.hrtime.bigint();
  let lastAnswerAt = startedAt;
  let answered = 0;
  let halfwayAt = startedAt;
  const result = await autocannon({
    // autocannon shares the connections round-robin between several targets; its typings only
    // declare the single-URL form.
    url: baseUrls as unknown as string,
    connections: settings.connections,
    amount: bodies.length,
    requests: [
      {
        method: 'POST',
        path: '/core/update',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
      },
    ],
    setupClient: (client) => {
      client.on('response', (statusCode: number, _bytes: number, responseTime: number) => {
        answers[statusCode] = (answers[statusCode] ?? 0) + 1;
        latencies.push(responseTime);
        lastAnswerAt = process.hrtime.bigint();
        answered += 1;
        if (answered === Math.ceil(bodies.length / 2)) halfwayAt = lastAnswerAt;
      });
    },
  });
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const accepted = answers[201] ?? 0;
  const { 201: _accepted, ...otherAnswers } = answers;
  const seconds = Number(lastAnswerAt - startedAt) / 1e9;
  return {
    seconds: round(seconds),
    secondHalfPerSecond: Math.round(
      (answered - Math.ceil(bodies.length / 2)) / (Number(lastAnswerAt - halfwayAt) / 1e9),
    ),
    accepted,
    acceptedPerSecond: Math.round(accepted / seconds),
    latencyMs: {
      p50: round(at(0.5)),
      p95: round(at(0.95)),
      p99: round(at(0.99)),
      max: round(latencies.at(-1) ?? 0),
    },
    otherAnswers,
    errors: result.errors + result.timeouts,
  };
}

const round = (value: number) => Math.round(value * 100) / 100;

/** Signs right before each phase, so every timestamp is fresh when it is sent. */
async function measure(
  label: string,
  launch: () => Promise<ChildProcess[]>,
  baseUrls: string[],
  token: string,
  sign: Signer,
  dashboards?: { count: number; adminToken: string },
): Promise<LoadFigures> {
  const servers = await launch();
  const peaks = servers.map((server) => new PeakRss(server.pid!));
  const stopPeaks = () => peaks.reduce((total, peak) => total + peak.stop(), 0);
  const open = dashboards?.count
    ? await openDashboards(baseUrls, dashboards.count, dashboards.adminToken)
    : undefined;
  try {
    const warmup = await drive(baseUrls, token, await sign(settings.warmupRequests));
    log(`${label}: warm-up ${warmup.accepted} requests in ${warmup.seconds}s`);
    // Enough bodies for the measured phase to last its duration even at 1.6× the rate of the
    // warm-up's second half (a process still speeds up after its warm-up).
    const count = Math.ceil(warmup.secondHalfPerSecond * settings.durationSeconds * 1.6);
    const bodies = await sign(count);
    log(`${label}: measuring ${count} requests at ${settings.connections} connections`);
    const cpuOfServers = () =>
      servers.reduce((total, server) => total + cpuSecondsOf(server.pid!), 0);
    const cpuBefore = cpuOfServers();
    const figures = await drive(baseUrls, token, bodies);
    const cpuMicrosecondsPerAccepted = Math.round(
      ((cpuOfServers() - cpuBefore) / Math.max(1, figures.accepted)) * 1e6,
    );
    const { secondHalfPerSecond: _secondHalf, ...reported } = figures;
    const peakRssMb = stopPeaks();
    return { ...reported, peakRssMb, cpuMicrosecondsPerAccepted, dashboards: await open?.close() };
  } finally {
    await open?.close();
    stopPeaks();
    await Promise.all(servers.map(stop));
  }
}

type Signer = (count: number) => Promise<string[]>;

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'bridge-bench-'));
  const keysDir = join(workDir, 'keys');
  generateKeyFiles(keysDir, false);
  const privateKeyPem = readFileSync(join(keysDir, 'private.pem'), 'utf8');
  const token = jsonwebtoken.sign({ roles: ['module'] }, JWT_SECRET, {
    algorithm: 'HS256',
    issuer: 'core-bucket-bridge',
    expiresIn: 3600,
  });
  const sign: Signer = async (count) => {
    const startedAt = Date.now();
    const bodies = await presignUpdates({ privateKeyPem, modules: settings.modules, count });
    log(
      `signed ${count} unique requests across ${settings.modules.length} modules in ${((Date.now() - startedAt) / 1000).toFixed(1)}s (the client's cost, before timing)`,
    );
    return bodies;
  };

  const port = 18_000 + Math.floor(Math.random() * 1000);
  const baseUrl = `http://127.0.0.1:${port}`;
  const replicaPorts = Array.from({ length: settings.replicas }, (_, index) => port + 1 + index);
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    settings: { ...settings, smoke },
  };

  const serviceEnv = (databaseUrl: string, servicePort = port) => ({
    NODE_ENV: 'production',
    PORT: String(servicePort),
    DATABASE_URL: databaseUrl,
    JWT_SECRET,
    KEYS_DIR: keysDir,
    LOG_LEVEL: 'warn',
    SHUTDOWN_GRACE_SECONDS: '0',
    AUTOMATION_ENABLED: 'false',
    NODE_ID: `bench-${servicePort}`,
    // Every bench client comes from 127.0.0.1 with a few tokens: limits on, but never binding.
    RATE_LIMIT_PER_ADDRESS: '10000000',
    RATE_LIMIT_PER_SUBJECT: '10000000',
  });
  report.service = await withDatabase('service', async (databaseUrl) => {
    const figures = await measure(
      settings.replicas > 1 ? `service ×${settings.replicas}` : 'service',
      () =>
        Promise.all(
          replicaPorts.map(async (replicaPort) => {
            const child = start(PRODUCTION.entry, serviceEnv(databaseUrl, replicaPort));
            await waitForHttp(`http://127.0.0.1:${replicaPort}/health/live`, child);
            return child;
          }),
        ),
      replicaPorts.map((replicaPort) => `http://127.0.0.1:${replicaPort}`),
      token,
      sign,
      {
        count: settings.dashboards,
        adminToken: jsonwebtoken.sign({ roles: ['admin'] }, JWT_SECRET, {
          algorithm: 'HS256',
          issuer: 'core-bucket-bridge',
          expiresIn: 3600,
        }),
      },
    );
    // Start to ready on the database the run just filled (migrations already applied).
    const startedAt = process.hrtime.bigint();
    const child = start(PRODUCTION.entry, serviceEnv(databaseUrl));
    await waitForReady(`${baseUrl}/health/ready`, child);
    const startToReadySeconds = round(Number(process.hrtime.bigint() - startedAt) / 1e9);
    await stop(child);
    return { ...figures, startToReadySeconds };
  });

  if (!flags['skip-baseline']) {
    report.baseline = await withDatabase('baseline', (databaseUrl) =>
      measure(
        'baseline',
        async () => {
          await migrate(databaseUrl);
          const child = start('dist/bench/baseline-server.js', {
            PORT: String(port),
            DATABASE_URL: databaseUrl,
            JWT_SECRET,
            PUBLIC_KEY_FILE: join(keysDir, 'public.pem'),
          });
          await waitForHttp(baseUrl, child);
          return [child];
        },
        [baseUrl],
        token,
        sign,
      ),
    );
    const ratio =
      (report.service as LoadFigures).acceptedPerSecond /
      Math.max(1, (report.baseline as LoadFigures).acceptedPerSecond);
    report.ratio_service_to_baseline = round(ratio);
  }

  report.chain_verify = await withDatabase('chain', async (databaseUrl) => {
    log(
      `building a ${settings.chainEntries.toLocaleString()}-entry chain directly in the database`,
    );
    await migrate(databaseUrl);
    await createChainFixture(databaseUrl, settings.chainEntries, log);
    return timeChainVerify(databaseUrl, keysDir);
  });

  rmSync(workDir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  const service = report.service as LoadFigures;
  const problems = [
    ...(Object.keys(service.otherAnswers).length > 0
      ? [`service answered non-201: ${JSON.stringify(service.otherAnswers)}`]
      : []),
    ...(service.errors > 0 ? [`${service.errors} connection errors or timeouts`] : []),
    ...(service.accepted === 0 ? ['no request was accepted'] : []),
    ...((report.chain_verify as { valid: boolean }).valid
      ? []
      : ['chain:verify did not report a valid chain']),
  ];
  if (problems.length > 0) {
    log(`benchmark problems:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

async function migrate(databaseUrl: string): Promise<void> {
  const { createDataSource } = await import('../src/database/data-source.js');
  const { runMigrationsExclusively } = await import('../src/database/migrate.js');
  const dataSource = await createDataSource(databaseUrl, 2).initialize();
  await runMigrationsExclusively(dataSource);
  await dataSource.destroy();
}

async function timeChainVerify(databaseUrl: string, keysDir: string) {
  const startedAt = process.hrtime.bigint();
  const child = spawn(process.execPath, ['dist/src/cli/chain-verify.cli.js'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      KEYS_DIR: keysDir,
      NODE_ENV: 'production',
      JWT_SECRET,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const peak = new PeakRss(child.pid!);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
  return {
    entries: settings.chainEntries,
    seconds: round(seconds),
    entriesPerSecond: Math.round(settings.chainEntries / seconds),
    peakRssMb: peak.stop(),
    valid: code === 0,
    output: output.trim().split('\n').slice(-2),
  };
}

main().catch((error: unknown) => {
  log(`benchmark failed: ${(error as Error).message}`);
  process.exit(1);
});
