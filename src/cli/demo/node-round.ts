import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILT_IN_PLUGINS_DIR } from '../../automation/plugins/plugin-loader.js';
import { AutomationRunner } from '../../automation/runner/automation-runner.js';
import type { AppConfig } from '../../config/app-config.js';
import { expectThat, StepFailure, type Narrator } from './narrator.js';

export interface NodeRoundOptions {
  /** The settings of the bridge the nodes talk to (`bridgeUrl`, the jobs and plugins). */
  config: AppConfig;
  nodes: string[];
  reportsDir: string;
  /** The node processes' environment (undefined: the demo's own). */
  nodeEnv: NodeJS.ProcessEnv | undefined;
}

/**
 * One round of every job on every node, each node a process of its own: what
 * `npm run automation -- --once --nodes 3` does. Shows each run and each node's report.
 */
export async function runNodeRound(narrator: Narrator, options: NodeRoundOptions): Promise<void> {
  const { config, nodes, reportsDir } = options;
  const runner = new AutomationRunner(
    config,
    {
      nodes,
      jobFile: config.automationConfigPath,
      pluginDirs: config.pluginDirs ?? [BUILT_IN_PLUGINS_DIR],
      only: [],
      reportsDir,
      nodeEnv: options.nodeEnv,
    },
    (line) => narrator.note(line),
  );
  narrator.request(
    `the automation runner (npm run automation -- --once): ${nodes.join(', ')}, a process each`,
  );
  await runner.preflight().catch((error: Error) => {
    throw new StepFailure(error.message);
  });
  const round = await runner.round();
  const failures = [
    ...[...round.nodeFailures].map(([node, why]) => `${node} could not run: ${why}`),
    ...round.records
      .filter((record) => record.outcome !== 'succeeded')
      .map((record) => `${record.node} ${record.job} ${record.outcome}: ${record.error}`),
  ];
  expectThat(round.ok, failures.join('; ') || 'the round did not succeed');
  for (const node of nodes) {
    const dir = join(reportsDir, node);
    const summary = readFileSync(join(dir, 'daily_log.txt'), 'utf8').trim().split('\n').at(-1)!;
    const pid = /started node process (\d+)/.exec(readFileSync(join(dir, 'engine.log'), 'utf8'));
    // The summary line starts with its time; the round and counts are what matter here.
    narrator.ok(`${node} (pid ${pid?.[1] ?? '?'}): ${summary.replace(/^\S+ /, '')}`);
  }
  const files = readdirSync(join(reportsDir, nodes[0])).join(', ');
  narrator.note(`reports in ${reportsDir}/<node>/: ${files}`);
}
