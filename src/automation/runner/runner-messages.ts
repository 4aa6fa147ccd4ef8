import type { JobRunResult } from '../engine/job-executor.js';

/** A job as the supervisor needs to know it: enough to watch over its runs. */
export interface JobSummary {
  name: string;
  plugins: string[];
  timeoutSeconds: number;
}

/** `JobRunResult` as it crosses the IPC channel (JSON: dates become strings). */
export type WireRunResult = Omit<JobRunResult, 'startedAt'> & { startedAt: string };

/** Supervisor → node process. */
export type SupervisorMessage = { type: 'run'; job: string } | { type: 'stop' };

/** Node process → supervisor. */
export type NodeMessage =
  | { type: 'ready'; jobs: JobSummary[] }
  | { type: 'fatal'; message: string }
  | { type: 'result'; job: string; result: WireRunResult };
