import { performance } from 'node:perf_hooks';
import { killAllNodes } from '../automation/runner/node-supervisor.js';
import { INSIGHT_TTL_SECONDS, insightLink, parseCli, runCli } from './cli-support.js';
import { DemoBridge } from './demo/demo-bridge.js';
import { DemoScenario } from './demo/demo-scenario.js';
import { Narrator } from './demo/narrator.js';

const USAGE = `Usage: npm run demo [-- --keep]

Shows, step by step, what the bridge guarantees: a valid signed heartbeat accepted, an invalid
signature and a replay rejected, the provenance chain growing and verifying with a signed
checkpoint checked offline, plugins running on three isolated nodes, the heartbeats visible in
/bucket/status and the logs, and /core/health's security figures moved by exactly what the demo
sent. Exits 0 only if every step behaved; otherwise names the step and what it saw (exit 1).

It starts its own bridge on the embedded PostgreSQL in a temporary folder (removed at the end),
unless BRIDGE_URL is set and answers: then it talks to that bridge, signing with
KEYS_DIR/private.pem, minting tokens from JWT_SECRET (in development KEYS_DIR/jwt-secret) and
checking the checkpoint with the public half of KEYS_DIR/checkpoint.pem, the bridge's own keys.

  --keep   leave the started bridge running and print its InsightFlow link`;

/** Exit status when Ctrl-C (or SIGTERM) stopped the demo. */
const INTERRUPTED = 130;

runCli(async () => {
  const flags = parseCli({ keep: { type: 'boolean' }, help: { type: 'boolean' } }, USAGE);
  if (flags.help) return void console.log(USAGE);
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const narrator = new Narrator();
  const bridge = new DemoBridge((line) => narrator.plain(line));
  const interrupt = (signal: NodeJS.Signals) => {
    narrator.failed(`${signal}: stopping what the demo started`);
    killAllNodes();
    void bridge.stop().finally(() => process.exit(INTERRUPTED));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  let failure: string | undefined;
  let scenario: DemoScenario | undefined;
  try {
    narrator.plain('Core-Bucket Bridge demo');
    failure = 'start-up';
    await bridge.open();
    scenario = new DemoScenario(bridge, narrator);
    await scenario.prepare();
    for (const [index, step] of scenario.steps.entries()) {
      failure = `step ${index + 1} (${step.title})`;
      narrator.heading(`${index + 1}. ${step.title}`);
      await step.run();
    }
    failure = undefined;
  } catch (error) {
    narrator.failed(`${failure} did not behave: ${(error as Error).message}`);
  }

  if (failure === undefined && flags.keep) {
    narrator.heading('The bridge keeps running (--keep)');
    narrator.plain(
      `InsightFlow: ${insightLink(bridge.url, scenario!.adminToken(INSIGHT_TTL_SECONDS))}`,
    );
    if (bridge.started) {
      narrator.plain(`Its output: ${bridge.outputFile}`);
      narrator.plain(
        `Stop it with: kill ${bridge.pid}   (it stops its database), then: rm -rf ${bridge.workDir}`,
      );
      bridge.keep();
    }
  }
  await bridge.stop();
  if (failure !== undefined) {
    narrator.plain(`\nDemo FAILED at ${failure} after ${seconds()} s`);
    process.exitCode = 1;
    return;
  }
  narrator.plain(`\nAll 7 steps behaved, in ${seconds()} s`);
});
