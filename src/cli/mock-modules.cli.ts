import { BridgeClient, BridgeUnreachableError } from '../client/bridge-client.js';
import { MockModule, type MockPlan } from '../automation/mock/mock-module.js';
import { SENSOR_PROFILES } from '../automation/mock/sensor-profiles.js';
import { SigningKey } from '../client/signing-key.js';
import { loadConfig, type AppConfig } from '../config/app-config.js';
import { keyPaths } from '../security/key-files.js';
import { tokensFromConfig } from '../security/sender-tokens.js';
import { fail, parseCli, runCli } from './cli-support.js';

const USAGE = `Usage: npm run mock -- [--modules 4] [--count 100] [--rate 5] [--heartbeat-every 10]

Simulates the seed's mock modules (module-a, module-b, ...: climate, power, air quality and
pump sensors). Each sends --count signed updates of realistic readings at --rate updates per
second (0: as fast as the bridge answers) to BRIDGE_URL, and a heartbeat at the start, every
--heartbeat-every updates and at the end. Modules sign with KEYS_DIR/private.pem and carry a
module token bound to their own name (minted from JWT_SECRET, or BRIDGE_TOKEN when set).
Shows progress, then what was accepted and what was rejected, by reason. Exits non-zero when
anything was rejected.`;

const PROGRESS_INTERVAL_MS = 1000;

runCli(async () => {
  const flags = parseCli(
    {
      modules: { type: 'string', default: '4' },
      count: { type: 'string', default: '100' },
      rate: { type: 'string', default: '5' },
      'heartbeat-every': { type: 'string', default: '10' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  const modules = wholeNumber('--modules', flags.modules, 1, 100);
  const plan: MockPlan = {
    count: wholeNumber('--count', flags.count, 1, 10_000_000),
    rate: Number(flags.rate),
    heartbeatEvery: wholeNumber('--heartbeat-every', flags['heartbeat-every'], 1, 10_000_000),
  };
  if (!(plan.rate >= 0))
    fail(`--rate must be a number of updates per second, 0 or more\n\n${USAGE}`);

  const config = loadConfig();
  const signingKey = new SigningKey(keyPaths(config.keysDir).privateKey);
  signingKey.get();
  const clients = Array.from({ length: modules }, (_, index) =>
    clientFor(config, moduleName(index), signingKey),
  );
  await checkBridge(clients[0]);
  const mocks = clients.map(
    (client, index) => new MockModule(client, SENSOR_PROFILES[index % SENSOR_PROFILES.length]),
  );

  console.log(
    `${modules} mock module(s) → ${config.bridgeUrl}: ${plan.count} update(s) each` +
      (plan.rate > 0 ? ` at ${plan.rate}/s` : ' as fast as possible'),
  );
  const started = Date.now();
  const progress = setInterval(() => printProgress(mocks, plan, started), PROGRESS_INTERVAL_MS);
  try {
    await Promise.all(mocks.map((mock) => mock.run(plan)));
  } finally {
    clearInterval(progress);
  }
  printSummary(mocks, started);
  if (mocks.some((mock) => mock.tally.rejectedCount > 0)) process.exitCode = 1;
});

function clientFor(config: AppConfig, module: string, signingKey: SigningKey): BridgeClient {
  return new BridgeClient({
    baseUrl: () => config.bridgeUrl,
    module,
    nodeId: config.nodeId,
    signingKey,
    tokens: tokensFromConfig(config, module, 'module'),
  });
}

/** module-a … module-z, then module-27 …, as the seed named its four. */
function moduleName(index: number): string {
  return index < 26 ? `module-${String.fromCharCode(97 + index)}` : `module-${index + 1}`;
}

async function checkBridge(client: BridgeClient): Promise<void> {
  try {
    await client.status();
  } catch (error) {
    const hint =
      error instanceof BridgeUnreachableError
        ? 'Is the bridge running? Set BRIDGE_URL to the address it listens on.'
        : 'Run with the bridge’s JWT_SECRET and JWT_ISSUER, or a valid BRIDGE_TOKEN.';
    fail(`${(error as Error).message}\n${hint}`, 1);
  }
}

function printProgress(mocks: MockModule[], plan: MockPlan, started: number): void {
  const sent = mocks.reduce((sum, mock) => sum + mock.tally.updates, 0);
  const accepted = mocks.reduce((sum, mock) => sum + mock.tally.accepted, 0);
  const rejected = mocks.reduce((sum, mock) => sum + mock.tally.rejectedCount, 0);
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `updates ${sent}/${plan.count * mocks.length} · accepted ${accepted} · rejected ${rejected}` +
      ` · ${(sent / seconds).toFixed(1)} updates/s`,
  );
}

function printSummary(mocks: MockModule[], started: number): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const total = (pick: (mock: MockModule) => number) => mocks.reduce((sum, m) => sum + pick(m), 0);
  const reasons = new Map<string, number>();
  mocks.forEach((mock) =>
    mock.tally.rejected.forEach((count, reason) =>
      reasons.set(reason, (reasons.get(reason) ?? 0) + count),
    ),
  );
  console.log(
    `done in ${seconds} s: ${total((m) => m.tally.updates)} update(s) and ${total((m) => m.tally.heartbeats)} heartbeat(s) sent`,
  );
  console.log(`  accepted ${total((m) => m.tally.accepted)}`);
  const byReason = [...reasons].map(([reason, count]) => `${reason} ${count}`).join(', ');
  console.log(
    `  rejected ${total((m) => m.tally.rejectedCount)}${byReason ? `: ${byReason}` : ''}`,
  );
  for (const mock of mocks) {
    console.log(`  ${mock.name}: ${mock.tally.accepted}/${mock.tally.sent} accepted`);
  }
}

function wholeNumber(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(`${flag} must be a whole number from ${min} to ${max}\n\n${USAGE}`);
  return value;
}
