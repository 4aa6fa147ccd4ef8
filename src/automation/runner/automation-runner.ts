import { performance } from 'node:perf_hooks';
import type { AppConfig } from '../../config/app-config.js';
import {
  BridgeClient,
  BridgeRejectedError,
  BridgeUnreachableError,
} from '../../client/bridge-client.js';
import { SigningKey } from '../../client/signing-key.js';
import { keyPaths } from '../../security/key-files.js';
import { tokensFromConfig } from '../../security/sender-tokens.js';
import { NodeReport, type RunRecord } from './node-report.js';
import { NodeSupervisor } from './node-supervisor.js';

export interface RunnerSettings {
  nodes: string[];
  jobFile: string;
  pluginDirs: string[];
  /** Run only these jobs (all when empty). */
  only: string[];
  reportsDir: string;
  /** The node processes' environment (default: the runner's own), e.g. another bridge's keys. */
  nodeEnv?: NodeJS.ProcessEnv;
}

export interface RoundResult {
  records: RunRecord[];
  /** Nodes that could not run at all, with why. */
  nodeFailures: Map<string, string>;
  /** Every node ran and every run succeeded. */
  ok: boolean;
}

/** The CLI runner: rounds of every job on every simulated node, each node in its own process. */
export class AutomationRunner {
  constructor(
    private readonly config: AppConfig,
    private readonly settings: RunnerSettings,
    private readonly print: (line: string) => void,
  ) {}

  /**
   * Checks what every node needs before forking any: the signing key, and a bridge that answers
   * and accepts the runner's token. Throws with what to fix.
   */
  async preflight(): Promise<void> {
    const signingKey = new SigningKey(keyPaths(this.config.keysDir).privateKey);
    signingKey.get();
    const module = BridgeClient.automationModule(this.settings.nodes[0]);
    const client = new BridgeClient({
      baseUrl: () => this.config.bridgeUrl,
      module,
      nodeId: this.settings.nodes[0],
      signingKey,
      tokens: tokensFromConfig(this.config, module, 'automation'),
    });
    try {
      await client.status();
    } catch (error) {
      if (error instanceof BridgeUnreachableError) {
        throw new Error(
          `${error.message}\nIs the bridge running? Set BRIDGE_URL to the address it listens on.`,
        );
      }
      if (error instanceof BridgeRejectedError && error.status === 401) {
        throw new Error(
          `${error.message}\nThe bridge does not accept the runner's token: run with the bridge's JWT_SECRET and JWT_ISSUER, or a valid BRIDGE_TOKEN.`,
        );
      }
      throw error;
    }
  }

  async round(): Promise<RoundResult> {
    const round = roundStamp(new Date());
    const { nodes, reportsDir } = this.settings;
    this.print(
      `round ${round}: ${nodes.length} node(s) against ${this.config.bridgeUrl}, reports in ${reportsDir}`,
    );
    const nodeFailures = new Map<string, string>();
    const perNode = await Promise.all(
      nodes.map(async (node) => {
        const report = new NodeReport(reportsDir, node);
        const started = performance.now();
        const supervisor = new NodeSupervisor(
          {
            node,
            jobFile: this.settings.jobFile,
            pluginDirs: this.settings.pluginDirs,
            only: this.settings.only,
            env: this.settings.nodeEnv,
          },
          report,
          (record) => this.print(formatRecord(record)),
        );
        try {
          const records = await supervisor.runRound(round);
          report.summary(round, records, Math.round(performance.now() - started));
          return records;
        } catch (error) {
          nodeFailures.set(node, (error as Error).message);
          report.engine(`RUNNER the node could not run: ${(error as Error).message}`);
          report.summary(round, [], Math.round(performance.now() - started));
          return [];
        }
      }),
    );
    const records = perNode.flat();
    this.printSummary(records, nodeFailures);
    const ok = nodeFailures.size === 0 && records.every((r) => r.outcome === 'succeeded');
    return { records, nodeFailures, ok };
  }

  private printSummary(records: RunRecord[], nodeFailures: Map<string, string>): void {
    const byReason = new Map<string, string[]>();
    nodeFailures.forEach((reason, node) =>
      byReason.set(reason, [...(byReason.get(reason) ?? []), node]),
    );
    byReason.forEach((nodes, reason) =>
      this.print(`${nodes.join(', ')} could not run:\n${reason}`),
    );
    const counts = new Map<string, number>();
    records.forEach((r) => counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1));
    const outcomes = [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
    this.print(
      `${records.length} run(s) on ${this.settings.nodes.length - nodeFailures.size} node(s)` +
        (outcomes ? `: ${outcomes}` : ''),
    );
  }
}

/** `run_<timestamp>` names: the round's start, UTC, safe in file names. */
function roundStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

function formatRecord(record: RunRecord): string {
  const line = `${record.node}  ${record.job.padEnd(16)} ${record.outcome.padEnd(9)} ${String(record.duration_ms).padStart(6)} ms`;
  return record.error ? `${line}  ${record.error}` : line;
}
