import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILT_IN_PLUGINS_DIR } from '../automation/plugins/plugin-loader.js';
import { AutomationRunner, type RunnerSettings } from '../automation/runner/automation-runner.js';
import { killAllNodes } from '../automation/runner/node-supervisor.js';
import { loadConfig } from '../config/app-config.js';
import { fail, parseCli, runCli } from './cli-support.js';

const USAGE = `Usage: npm run automation -- (--once | --watch [--interval MINUTES]) [options]

Runs every job of the automation config on one or more simulated nodes, each node in a
process of its own, against the bridge at BRIDGE_URL. Plugins sign with KEYS_DIR/private.pem
and carry short-lived tokens minted from JWT_SECRET (or BRIDGE_TOKEN when set).

  --once              run every job once on every node, then exit (non-zero if a run failed)
  --watch             run a round every --interval minutes until stopped (Ctrl-C)
  --interval MINUTES  minutes between rounds with --watch (default 120)
  --nodes N           simulate N nodes, node-001 to node-N (default: one node named NODE_ID)
  --job NAME          run only this job (repeatable)
  --config FILE       the job file (default: AUTOMATION_CONFIG, or plugins/automation.json)
  --plugins DIR       a plugins folder (repeatable; default: PLUGINS_DIR, or the built-ins)
  --reports DIR       where the per-node report folders go (default: LOG_DIR/automation)`;

const MAX_NODES = 999;

runCli(async () => {
  const flags = parseCli(
    {
      once: { type: 'boolean' },
      watch: { type: 'boolean' },
      interval: { type: 'string', default: '120' },
      nodes: { type: 'string' },
      job: { type: 'string', multiple: true },
      config: { type: 'string' },
      plugins: { type: 'string', multiple: true },
      reports: { type: 'string' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  if (Boolean(flags.once) === Boolean(flags.watch)) fail(`Choose --once or --watch\n\n${USAGE}`);
  const interval = Number(flags.interval);
  if (!(interval > 0)) fail(`--interval must be a number of minutes greater than 0\n\n${USAGE}`);
  const nodeCount = flags.nodes === undefined ? undefined : Number(flags.nodes);
  if (
    nodeCount !== undefined &&
    !(Number.isInteger(nodeCount) && nodeCount >= 1 && nodeCount <= MAX_NODES)
  )
    fail(`--nodes must be a whole number from 1 to ${MAX_NODES}\n\n${USAGE}`);

  const config = loadConfig();
  const settings: RunnerSettings = {
    nodes: nodeCount
      ? Array.from({ length: nodeCount }, (_, i) => `node-${String(i + 1).padStart(3, '0')}`)
      : [config.nodeId],
    jobFile: resolve(flags.config ?? config.automationConfigPath),
    pluginDirs: flags.plugins?.map((dir) => resolve(dir)) ??
      config.pluginDirs ?? [BUILT_IN_PLUGINS_DIR],
    only: flags.job ?? [],
    reportsDir: resolve(flags.reports ?? join(config.logDir ?? 'logs', 'automation')),
  };
  const runner = new AutomationRunner(config, settings, (line) => console.log(line));

  if (flags.once) {
    process.once('SIGINT', () => stopNow());
    await runner.preflight().catch((error: Error) => fail(error.message, 1));
    const { ok } = await runner.round();
    process.exitCode = ok ? 0 : 1;
    return;
  }
  await watch(runner, interval);
});

/** Rounds every `interval` minutes; Ctrl-C lets the current round finish, twice stops at once. */
async function watch(runner: AutomationRunner, intervalMinutes: number): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) stopNow();
    console.log('stopping after the current round (Ctrl-C again to stop now)');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  while (!stop.signal.aborted) {
    const next = Date.now() + intervalMinutes * 60_000;
    try {
      await runner.preflight();
      await runner.round();
    } catch (error) {
      console.error(`round skipped: ${(error as Error).message}`);
    }
    if (stop.signal.aborted) break;
    console.log(`next round at ${new Date(next).toISOString()}`);
    await sleep(Math.max(next - Date.now(), 0), undefined, { signal: stop.signal }).catch(
      () => undefined,
    );
  }
}

function stopNow(): never {
  killAllNodes();
  process.exit(130);
}
