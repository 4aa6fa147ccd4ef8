import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { within } from '../../common/within.js';
import type { NodeReport, RunRecord } from './node-report.js';
import type { JobSummary, NodeMessage, WireRunResult } from './runner-messages.js';

/** How long past its job's timeout a silent node gets before it is judged stuck and killed. */
const WATCHDOG_GRACE_MS = 3000;
/** How long a node gets to close after the round before it is killed. */
const STOP_GRACE_MS = 5000;
const NODE_AGENT = fileURLToPath(new URL('./node-agent.js', import.meta.url));

export interface NodeOptions {
  node: string;
  jobFile: string;
  pluginDirs: readonly string[];
  /** Run only these jobs (all when empty). */
  only: readonly string[];
  /** The node process's environment (default: the runner's own). */
  env?: NodeJS.ProcessEnv;
}

/** Every node process alive, so the runner can stop them all when it is interrupted. */
const liveNodes = new Set<ChildProcess>();

/** Kills every node process at once (the runner was told to stop now). */
export function killAllNodes(): void {
  liveNodes.forEach((child) => child.kill('SIGKILL'));
}

/** The node process could not start: a bad job file or plugin, a missing key. */
export class NodeStartError extends Error {
  override name = 'NodeStartError';
}

interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type RunEnd =
  | { kind: 'result'; result: WireRunResult }
  | { kind: 'exited'; exit: ProcessExit }
  | { kind: 'stuck' };

/**
 * Runs one node's jobs, one after another, in a process of its own. A run that ends its process
 * (a crash, `process.exit`) or stops answering (a blocked event loop) is recorded, and a fresh
 * process takes the rest of the round, so one plugin can cost only its own run.
 */
export class NodeSupervisor {
  constructor(
    private readonly options: NodeOptions,
    private readonly report: NodeReport,
    private readonly onRecord: (record: RunRecord) => void,
  ) {}

  async runRound(round: string): Promise<RunRecord[]> {
    const records: RunRecord[] = [];
    let node: NodeProcess | undefined = await this.startNode();
    for (const job of this.selectJobs(node.jobs)) {
      node ??= await this.startNode();
      const startedAt = new Date();
      const started = performance.now();
      const end = await node.run(job);
      if (end.kind !== 'result') node = undefined;
      const record = this.toRecord(job, end, startedAt, Math.round(performance.now() - started));
      this.report.run(round, record, end.kind === 'result' ? end.result.errorStack : undefined);
      this.onRecord(record);
      records.push(record);
    }
    await node?.stop();
    return records;
  }

  private startNode(): Promise<NodeProcess> {
    return NodeProcess.start(this.options, this.report);
  }

  private selectJobs(jobs: JobSummary[]): JobSummary[] {
    if (this.options.only.length === 0) return jobs;
    const unknown = this.options.only.filter((name) => !jobs.some((job) => job.name === name));
    if (unknown.length > 0) {
      throw new NodeStartError(
        `no job named ${unknown.join(', ')} (jobs: ${jobs.map((job) => job.name).join(', ')})`,
      );
    }
    return jobs.filter((job) => this.options.only.includes(job.name));
  }

  private toRecord(job: JobSummary, end: RunEnd, startedAt: Date, durationMs: number): RunRecord {
    const base = { node: this.options.node, job: job.name, plugin: job.plugins.join(', ') };
    if (end.kind === 'result') {
      return {
        ...base,
        started_at: end.result.startedAt,
        duration_ms: end.result.durationMs,
        outcome: end.result.outcome,
        error: end.result.error,
        result: end.result.results,
      };
    }
    return {
      ...base,
      started_at: startedAt.toISOString(),
      duration_ms: durationMs,
      outcome: end.kind === 'stuck' ? 'timed_out' : 'crashed',
      error:
        end.kind === 'stuck'
          ? `did not finish within ${job.timeoutSeconds} s and stopped answering: the node process was killed`
          : `the node process ended during the run (${describeExit(end.exit)})`,
      result: {},
    };
  }
}

/** One forked node-agent process. */
class NodeProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly jobs: JobSummary[],
    private readonly exited: Promise<ProcessExit>,
  ) {}

  static async start(options: NodeOptions, report: NodeReport): Promise<NodeProcess> {
    const child = fork(
      NODE_AGENT,
      [
        ['--node', options.node],
        ['--jobs', options.jobFile],
        ...options.pluginDirs.map((dir) => ['--plugins', dir]),
      ].flat(),
      { silent: true, env: options.env },
    );
    liveNodes.add(child);
    const exited = once(child, 'exit').then(([code, signal]) => {
      liveNodes.delete(child);
      return { code, signal } as ProcessExit;
    });
    // Sending to a process that just died emits 'error'; the exit is what gets recorded.
    child.on('error', (error) => report.engine(`RUNNER node process error: ${error.message}`));
    copyLines(child.stdout!, (line) => report.engine(line));
    copyLines(child.stderr!, (line) => report.engine(`STDERR ${line}`));
    report.engine(`RUNNER started node process ${child.pid}`);

    const first = await Promise.race([nextMessage(child), exited]);
    if ('type' in first && first.type === 'ready')
      return new NodeProcess(child, first.jobs, exited);
    if ('type' in first && first.type === 'fatal') {
      child.kill('SIGKILL');
      throw new NodeStartError(first.message);
    }
    throw new NodeStartError(
      `the node process ended before it was ready (${describeExit(first as ProcessExit)})`,
    );
  }

  /** Resolves with the run's result, or with how the process failed it; never rejects. */
  async run(job: JobSummary): Promise<RunEnd> {
    this.child.send({ type: 'run', job: job.name });
    const end = await within(
      Promise.race([
        resultOf(this.child, job.name).then((result): RunEnd => ({ kind: 'result', result })),
        this.exited.then((exit): RunEnd => ({ kind: 'exited', exit })),
      ]),
      job.timeoutSeconds * 1000 + WATCHDOG_GRACE_MS,
      { kind: 'stuck' } satisfies RunEnd,
    );
    if (end.kind === 'stuck') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    return end;
  }

  async stop(): Promise<void> {
    this.child.send({ type: 'stop' });
    if ((await within(this.exited, STOP_GRACE_MS, 'late')) === 'late') this.child.kill('SIGKILL');
    await this.exited;
  }
}

function nextMessage(child: ChildProcess): Promise<NodeMessage> {
  return new Promise((resolve) =>
    child.once('message', (message) => resolve(message as NodeMessage)),
  );
}

function resultOf(child: ChildProcess, job: string): Promise<WireRunResult> {
  return new Promise((resolve) => {
    const onMessage = (message: NodeMessage) => {
      if (message.type !== 'result' || message.job !== job) return;
      child.off('message', onMessage);
      resolve(message.result);
    };
    child.on('message', onMessage);
  });
}

function copyLines(stream: Readable, write: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', write);
}

function describeExit({ code, signal }: ProcessExit): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}
