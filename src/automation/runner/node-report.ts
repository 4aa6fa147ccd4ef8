import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../../common/canonical-json.js';
import type { RunOutcome } from '../engine/job-executor.js';

/** A runner run: the executor's outcomes, plus `crashed` when the node process died during it. */
export type RunnerOutcome = RunOutcome | 'crashed';

/** One line of `run_<timestamp>.jsonl`. */
export interface RunRecord {
  node: string;
  job: string;
  plugin: string;
  started_at: string;
  duration_ms: number;
  outcome: RunnerOutcome;
  error: string | null;
  result: JsonObject;
}

/**
 * The report folder of one node: `engine.log` (everything the node and its supervisor said),
 * `plugin_errors.log` (every run that did not succeed), `run_<timestamp>.jsonl` (one line per run
 * of a round) and `daily_log.txt` (one summary line per round). Appends are synchronous: the
 * volume is small, and every line is on disk even if the runner is killed.
 */
export class NodeReport {
  readonly dir: string;

  constructor(
    reportsDir: string,
    readonly node: string,
  ) {
    this.dir = join(reportsDir, node);
    mkdirSync(this.dir, { recursive: true });
    // Present even when empty: an empty error log is an answer too.
    appendFileSync(join(this.dir, 'plugin_errors.log'), '');
  }

  engine(line: string): void {
    this.append('engine.log', `${new Date().toISOString()} ${line}`);
  }

  run(round: string, record: RunRecord, stack?: string): void {
    this.append(`run_${round}.jsonl`, JSON.stringify(record));
    this.engine(`RUN ${record.job}: ${record.outcome} in ${record.duration_ms} ms`);
    if (record.outcome === 'succeeded') return;
    const detail = stack ? `\n${stack}` : '';
    this.append(
      'plugin_errors.log',
      `${record.started_at} ${record.job} (${record.plugin}) ${record.outcome}: ${record.error}${detail}`,
    );
  }

  summary(round: string, records: RunRecord[], durationMs: number): string {
    const counts = new Map<RunnerOutcome, number>();
    records.forEach((record) => counts.set(record.outcome, (counts.get(record.outcome) ?? 0) + 1));
    const outcomes = [...counts].map(([outcome, count]) => `${count} ${outcome}`).join(', ');
    const line = `${new Date().toISOString()} run_${round} ${this.node}: ${records.length} run(s), ${outcomes || 'nothing run'} in ${durationMs} ms`;
    this.append('daily_log.txt', line);
    return line;
  }

  private append(file: string, line: string): void {
    appendFileSync(join(this.dir, file), `${line}\n`);
  }
}
