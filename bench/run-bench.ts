/**
 * `npm run bench [-- --smoke] [-- --duration S --connections N --replicas R --dashboards D --skip-baseline]`
 * `[-- --warmup N --skip-floors --open-rate R --open-duration S --cpu-prof DIR]`
 *
 * 0. Runs the two floor servers (bench/floor-raw.ts: `node:http` alone; bench/floor-nest.ts: NestJS
 *    on Express with the service's bootstrap options, a trivial guard and a body-reading
 *    interceptor) under the same closed-loop load, for their CPU time per request.
 * 1. Starts the service in production mode on a fresh database (DATABASE_URL's server, default the
 *    local PostgreSQL) and drives POST /core/update with autocannon after a warm-up, using bodies
 *    signed beforehand across several modules. Reports accepted/s, p50/p95/p99, every non-201
 *    answer, the service's peak RSS and its CPU time per accepted update.
 * 2. Does the same against the minimal baseline server (bench/baseline-server.ts) and prints the
 *    ratio service / baseline.
 * 3. Builds a chain directly in a database and times `chain:verify` over it (entries/s, peak RSS).
 *
 * After its closed-loop phase, every server (floors, service, baseline) also gets an open-loop phase: a fixed
 * offered rate (`--open-rate`, default 2,000/s) for `--open-duration` seconds after a short warm-up
 * at that rate, latency measured from each request's due time (bench/open-loop.ts). Every server
 * runs with bench/loop-probe.ts preloaded, so the open-loop window's event-loop delay and GC
 * pauses are reported beside its latencies. `--cpu-prof DIR` writes the service's CPU profile there.
 *
 * The run ends with a summary table (stdout, after the JSON): CPU µs per request of the raw floor,
 * the Nest floor, the baseline and the service; the overhead ratio
 * service / (nestFloor + (baseline − rawFloor)); the open-loop p50/p99/max and non-201 answers.
 *
 * `--replicas R` runs R service processes on the one database, the load (closed and open loop)
 * shared between them, as replicas behind a Kubernetes Service would be (peak RSS is then their
 * sum; the probe figures are the first replica's).
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
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import jsonwebtoken from 'jsonwebtoken';
import pg from 'pg';
import { parseCli, wholeNumberFlag } from '../src/cli/cli-support.js';
import { generateKeyFiles } from '../src/security/key-files.js';
import { createChainFixture } from './chain-fixture.js';
import { openDashboards } from './dashboards.js';
import type { ProbeRecord } from './loop-probe.js';
import { runOpenLoop, type OpenLoopFigures } from './open-loop.js';
import { presignUpdates } from './presign.js';
import { PeakRss } from './peak-rss.js';
import { cpuSecondsOf } from './process-cpu.js';

const USAGE = `usage: npm run bench [-- --smoke] [-- --duration S --connections N --replicas R --dashboards D]
       [-- --warmup N --chain-entries N --skip-baseline --skip-floors]
       [-- --open-rate R --open-duration S --cpu-prof DIR]
(bench/run-bench.ts's opening comment says what each phase measures)`;
const flags = parseCli(
  {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'chain-entries': { type: 'string' },
    'skip-baseline': { type: 'boolean', default: false },
    replicas: { type: 'string' },
    dashboards: { type: 'string' },
    'skip-floors': { type: 'boolean', default: false },
    'open-rate': { type: 'string' },
    'open-duration': { type: 'string' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  USAGE,
);
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const smoke = flags.smoke ?? false;
type CountFlag =
  | 'duration'
  | 'warmup'
  | 'connections'
  | 'chain-entries'
  | 'replicas'
  | 'dashboards'
  | 'open-rate'
  | 'open-duration';
const numeric = (name: CountFlag, fallback: number, minimum = 1) =>
  wholeNumberFlag(name, flags[name], fallback, USAGE, minimum);
const settings = {
  durationSeconds: numeric('duration', smoke ? 2 : 20),
  connections: numeric('connections', smoke ? 4 : 64),
  chainEntries: numeric('chain-entries', smoke ? 2_000 : 1_000_000),
  /** Service processes on one database, sharing the connections (replicas behind a Service). */
  replicas: numeric('replicas', 1),
  /** InsightFlow streams kept open on the service while it is measured. */
  dashboards: numeric('dashboards', 0, 0),
  /** Signed bodies for the warm-up; the measured phase is sized from the warm-up's rate. */
  warmupRequests: numeric('warmup', smoke ? 300 : 30_000),
  openLoop: {
    ratePerSecond: numeric('open-rate', smoke ? 200 : 2_000),
    warmupSeconds: smoke ? 1 : 3,
    durationSeconds: numeric('open-duration', smoke ? 2 : 20),
    maxSockets: 256,
  },
  /** Distinct bodies the floors cycle through; they check nothing, so a body may repeat. */
  floorBodies: smoke ? 100 : 2_000,
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
  /** What the server's probe saw during the measured closed-loop phase. */
  server?: ProbeWindow;
  /** With `--dashboards`: the streams kept open and the snapshots they received. */
  dashboards?: { streams: number; snapshotsReceived: number };
  /** The fixed-rate phase after the closed-loop one, with what the server's probe saw meanwhile. */
  openLoop?: OpenLoopFigures & {
    cpuMicrosecondsPerRequest: number;
    server?: ProbeWindow;
    /** PostgreSQL checkpoints that began during the phase (pg_stat_bgwriter, the whole server). */
    postgresCheckpoints: number;
  };
}

/** What bench/loop-probe.ts recorded in the server during a load window. */
interface ProbeWindow {
  /** Event-loop delay: the median of the per-second p99s, the worst second's p99, and the max. */
  eventLoopDelayMs: { medianSecondP99: number; worstSecondP99: number; max: number };
  /** Seconds of the window whose event-loop delay reached 50 ms, as offsets into the window. */
  stalledSeconds: Array<{ atS: number; maxMs: number }>;
  gc: { pauses: number; totalMs: number; maxMs: number; majorPauses: number; majorMaxMs: number };
  /** JS heap bytes allocated per request answered in the window, in KB. */
  allocatedKbPerRequest: number;
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

const workDir = mkdtempSync(join(tmpdir(), 'bridge-bench-'));
const LOOP_PROBE = fileURLToPath(new URL('./loop-probe.js', import.meta.url));
const probeFileOf = (label: string) => join(workDir, `probe-${label.replace(/\W+/g, '-')}.json`);

/**
 * Starts a server with the service's node flags and bench/loop-probe.ts preloaded (recording to
 * `probeFileOf(probeLabel)`), plus any extra node flags (a CPU profile).
 */
function start(
  script: string,
  env: Record<string, string>,
  probeLabel?: string,
  extraNodeFlags: string[] = [],
): ChildProcess {
  const probe = probeLabel ? ['--import', LOOP_PROBE] : [];
  const command = [...PRODUCTION.nodeFlags, ...probe, ...extraNodeFlags, script];
  if (probeLabel) env = { ...env, LOOP_PROBE_FILE: probeFileOf(probeLabel) };
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
  if (child.exitCode !== null || child.signalCode !== null) return;
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
const countOf = (answers: Record<string, number>) =>
  Object.values(answers).reduce((total, count) => total + count, 0);

/** Signs right before each phase, so every timestamp is fresh when it is sent. */
async function measure(
  label: string,
  launch: () => Promise<ChildProcess[]>,
  baseUrls: string[],
  token: string,
  sign: Signer,
  options: {
    dashboards?: { count: number; adminToken: string };
    /** The label the (first) server's probe was started with, to read what it saw. */
    probeLabel?: string;
    /** Whether the open-loop phase follows the closed-loop one. */
    openLoop?: boolean;
  } = {},
): Promise<LoadFigures> {
  const { dashboards } = options;
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
    const closedFromMs = Date.now();
    const figures = await drive(baseUrls, token, bodies);
    const closedWindow = { fromMs: closedFromMs, toMs: Date.now() };
    const cpuMicrosecondsPerAccepted = Math.round(
      ((cpuOfServers() - cpuBefore) / Math.max(1, figures.accepted)) * 1e6,
    );
    const { secondHalfPerSecond: _secondHalf, ...reported } = figures;
    const openLoop = options.openLoop
      ? await measureOpenLoop(label, baseUrls, token, sign, cpuOfServers)
      : undefined;
    const peakRssMb = stopPeaks();
    const dashboardsSeen = await open?.close();
    // The probe writes its record when the server exits.
    await Promise.all(servers.map(stop));
    const { probeLabel } = options;
    // The probe sees the first server, which took its share of the requests.
    const share = (requests: number) => requests / servers.length;
    if (openLoop && probeLabel)
      openLoop.server = probeWindowOf(probeLabel, openLoop.window, share(openLoop.recorded));
    return {
      ...reported,
      peakRssMb,
      cpuMicrosecondsPerAccepted,
      server: probeLabel
        ? probeWindowOf(
            probeLabel,
            closedWindow,
            share(reported.accepted + countOf(reported.otherAnswers)),
          )
        : undefined,
      dashboards: dashboardsSeen,
      openLoop,
    };
  } finally {
    await open?.close();
    stopPeaks();
    await Promise.all(servers.map(stop));
  }
}

/** The fixed-rate phase on a warm server: bodies signed right before, each sent once. */
async function measureOpenLoop(
  label: string,
  baseUrls: string[],
  token: string,
  sign: Signer,
  cpuOfServers: () => number,
): Promise<NonNullable<LoadFigures['openLoop']>> {
  const { ratePerSecond, warmupSeconds, durationSeconds, maxSockets } = settings.openLoop;
  const bodies = await sign(Math.ceil(ratePerSecond * (warmupSeconds + durationSeconds)) + 1);
  log(
    `${label}: open loop at ${ratePerSecond}/s, ${warmupSeconds}s warm-up then ${durationSeconds}s measured`,
  );
  const checkpointsBefore = await postgresCheckpoints();
  const cpuBefore = cpuOfServers();
  const figures = await runOpenLoop({
    baseUrls,
    token,
    bodies,
    ratePerSecond,
    warmupSeconds,
    durationSeconds,
    maxSockets,
  });
  const sent = Math.floor(ratePerSecond * (warmupSeconds + durationSeconds));
  return {
    ...figures,
    cpuMicrosecondsPerRequest: Math.round(((cpuOfServers() - cpuBefore) / sent) * 1e6),
    postgresCheckpoints: (await postgresCheckpoints()) - checkpointsBefore,
  };
}

/** Checkpoints the PostgreSQL server has run so far, timed or requested. */
async function postgresCheckpoints(): Promise<number> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ count: string }>(
      'SELECT checkpoints_timed + checkpoints_req AS count FROM pg_stat_bgwriter',
    );
    return Number(rows[0].count);
  } finally {
    await admin.end();
  }
}

/** The server's event-loop delay and GC pauses over `window`, from its probe file. */
function probeWindowOf(
  label: string,
  window: { fromMs: number; toMs: number },
  requests: number,
): ProbeWindow {
  const record = JSON.parse(readFileSync(probeFileOf(label), 'utf8')) as ProbeRecord;
  // A probe second is reported at its end.
  const seconds = record.seconds.filter(
    ({ atMs }) => atMs > window.fromMs && atMs <= window.toMs + 1000,
  );
  const pauses = record.gc.filter(({ atMs }) => atMs >= window.fromMs && atMs <= window.toMs);
  const major = pauses.filter(({ kind }) => kind === 2);
  const p99s = seconds.map(({ p99Ms }) => p99Ms).sort((a, b) => a - b);
  const maxOf = (values: number[]) => values.reduce((max, value) => Math.max(max, value), 0);
  return {
    eventLoopDelayMs: {
      medianSecondP99: p99s[Math.floor(p99s.length / 2)] ?? 0,
      worstSecondP99: maxOf(p99s),
      max: maxOf(seconds.map(({ maxMs }) => maxMs)),
    },
    stalledSeconds: seconds
      .filter(({ maxMs }) => maxMs >= 50)
      .map(({ atMs, maxMs }) => ({ atS: round((atMs - 1000 - window.fromMs) / 1000), maxMs })),
    allocatedKbPerRequest: round(
      seconds.reduce((total, { allocatedBytes }) => total + allocatedBytes, 0) /
        1024 /
        Math.max(1, requests),
    ),
    gc: {
      pauses: pauses.length,
      totalMs: round(pauses.reduce((total, { durationMs }) => total + durationMs, 0)),
      maxMs: maxOf(pauses.map(({ durationMs }) => durationMs)),
      majorPauses: major.length,
      majorMaxMs: maxOf(major.map(({ durationMs }) => durationMs)),
    },
  };
}

type Signer = (count: number) => Promise<string[]>;

async function main(): Promise<void> {
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
  if (!flags['skip-floors']) {
    // The floors check nothing, so they cycle through a small pool of real signed bodies.
    const pool = await sign(settings.floorBodies);
    const fromPool: Signer = async (count) =>
      Array.from({ length: count }, (_, index) => pool[index % pool.length]);
    for (const [key, script] of [
      ['floor_raw', 'dist/bench/floor-raw.js'],
      ['floor_nest', 'dist/bench/floor-nest.js'],
    ] as const) {
      report[key] = await measure(
        key,
        async () => {
          const child = start(script, { PORT: String(port), NODE_ENV: 'production' }, key);
          await waitForHttp(baseUrl, child);
          return [child];
        },
        [baseUrl],
        token,
        fromPool,
        // The floors at the same fixed rate: what the framework alone does to the tail.
        { probeLabel: key, openLoop: true },
      );
    }
  }

  report.service = await withDatabase('service', async (databaseUrl) => {
    const cpuProfile = flags['cpu-prof']
      ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`]
      : [];
    const figures = await measure(
      settings.replicas > 1 ? `service ×${settings.replicas}` : 'service',
      () =>
        Promise.all(
          replicaPorts.map(async (replicaPort, index) => {
            const child = start(
              PRODUCTION.entry,
              serviceEnv(databaseUrl, replicaPort),
              `service-${index}`,
              cpuProfile,
            );
            await waitForHttp(`http://127.0.0.1:${replicaPort}/health/live`, child);
            return child;
          }),
        ),
      replicaPorts.map((replicaPort) => `http://127.0.0.1:${replicaPort}`),
      token,
      sign,
      {
        dashboards: {
          count: settings.dashboards,
          adminToken: jsonwebtoken.sign({ roles: ['admin'] }, JWT_SECRET, {
            algorithm: 'HS256',
            issuer: 'core-bucket-bridge',
            expiresIn: 3600,
          }),
        },
        probeLabel: 'service-0',
        openLoop: true,
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
          const child = start(
            'dist/bench/baseline-server.js',
            {
              PORT: String(port),
              DATABASE_URL: databaseUrl,
              JWT_SECRET,
              PUBLIC_KEY_FILE: join(keysDir, 'public.pem'),
            },
            'baseline',
          );
          await waitForHttp(baseUrl, child);
          return [child];
        },
        [baseUrl],
        token,
        sign,
        { probeLabel: 'baseline', openLoop: true },
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
  report.overhead_ratio = overheadRatio(report);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${summaryTable(report)}\n`);
  const service = report.service as LoadFigures;
  const problems = [
    ...(Object.keys(service.otherAnswers).length > 0
      ? [`service answered non-201: ${JSON.stringify(service.otherAnswers)}`]
      : []),
    ...(service.openLoop && Object.keys(service.openLoop.non201).length > 0
      ? [`service answered non-201 in the open loop: ${JSON.stringify(service.openLoop.non201)}`]
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

/**
 * service / (nestFloor + (baseline − rawFloor)), in CPU µs per request: what the service spends
 * beyond the framework's own floor plus the real work (the baseline without Node's HTTP floor).
 */
function overheadRatio(report: Record<string, unknown>): number | undefined {
  const cpu = (key: string) => (report[key] as LoadFigures | undefined)?.cpuMicrosecondsPerAccepted;
  const [service, nest, raw, baseline] = ['service', 'floor_nest', 'floor_raw', 'baseline'].map(
    cpu,
  );
  if (!service || !nest || !raw || !baseline) return undefined;
  return round(service / (nest + (baseline - raw)));
}

/** The figures to paste into BENCHMARKS.md, as a Markdown table. */
function summaryTable(report: Record<string, unknown>): string {
  const rows: string[][] = [];
  for (const [key, name] of [
    ['floor_raw', 'raw node:http floor'],
    ['floor_nest', 'NestJS floor'],
    ['baseline', 'baseline'],
    ['service', 'service'],
  ]) {
    const figures = report[key] as LoadFigures | undefined;
    if (!figures) continue;
    const open = figures.openLoop;
    const closedOthers = Object.keys(figures.otherAnswers).length
      ? JSON.stringify(figures.otherAnswers)
      : '0';
    rows.push([
      name,
      String(figures.cpuMicrosecondsPerAccepted),
      figures.server ? String(figures.server.allocatedKbPerRequest) : '–',
      figures.acceptedPerSecond.toLocaleString('en-US'),
      `${figures.latencyMs.p50} / ${figures.latencyMs.p99}`,
      closedOthers,
      open ? `${open.offeredPerSecond.toLocaleString('en-US')}/s` : '–',
      open ? `${open.latencyMs.p50} / ${open.latencyMs.p99} / ${open.latencyMs.max}` : '–',
      open ? (Object.keys(open.non201).length ? JSON.stringify(open.non201) : '0') : '–',
      open ? String(open.cpuMicrosecondsPerRequest) : '–',
      open?.server
        ? `${open.server.eventLoopDelayMs.worstSecondP99} / ${open.server.eventLoopDelayMs.max}`
        : '–',
      open?.server ? `${open.server.gc.pauses}, max ${open.server.gc.maxMs}` : '–',
      open ? String(open.postgresCheckpoints) : '–',
    ]);
  }
  const header = [
    'server',
    'CPU µs/req',
    'KB alloc/req',
    'closed-loop req/s',
    'p50 / p99 ms',
    'non-201',
    'open loop',
    'p50 / p99 / max ms',
    'non-201',
    'CPU µs/req',
    'loop delay p99 / max ms',
    'GC pauses',
    'PG checkpoints',
  ];
  const lines = [header, header.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`);
  const ratio = report.overhead_ratio;
  lines.push(
    '',
    `overhead ratio service / (nestFloor + (baseline − rawFloor)) = ${ratio ?? 'n/a (a phase was skipped)'} (target ≤ 1.15)`,
  );
  return lines.join('\n');
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
  rmSync(workDir, { recursive: true, force: true });
  process.exit(1);
});
