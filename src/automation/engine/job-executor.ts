import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import type { JsonObject, JsonValue } from '../../common/canonical-json.js';
import type { JobAction, JobDefinition } from '../jobs/job-config.js';
import { PluginContextFactory } from './plugin-context.factory.js';
import { PluginRegistry } from '../plugins/plugin.registry.js';

export type RunOutcome = 'succeeded' | 'failed' | 'timed_out' | 'cancelled';

/** How one run of a job went. */
export interface JobRunResult {
  outcome: RunOutcome;
  startedAt: Date;
  durationMs: number;
  /** Why the run did not succeed, starting with the plugin's name. */
  error: string | null;
  /** The stack of a thrown error, for log files only: never sent to API clients. */
  errorStack?: string;
  /** Each action's report, by plugin name (`name#2`… for a repeated plugin). */
  results: JsonObject;
}

class RunTimeout extends Error {
  constructor(seconds: number) {
    super(`did not finish within ${seconds} s`);
  }
}

class RunCancelled extends Error {
  constructor() {
    super('cancelled: the engine is shutting down');
  }
}

/**
 * The run wrapper shared by the service and the runner: runs a job's actions in order under the
 * job's timeout, turns every throw, rejection or hang into a recorded outcome, and never throws.
 */
@Injectable()
export class JobExecutor {
  private readonly logger = new Logger(JobExecutor.name);

  constructor(
    private readonly plugins: PluginRegistry,
    private readonly contexts: PluginContextFactory,
  ) {}

  async execute(job: JobDefinition, cancel?: AbortSignal): Promise<JobRunResult> {
    const startedAt = new Date();
    const started = performance.now();
    const run = new AbortController();
    const timer = setTimeout(
      () => run.abort(new RunTimeout(job.timeoutSeconds)),
      job.timeoutSeconds * 1000,
    );
    const onCancel = () => run.abort(new RunCancelled());
    if (cancel?.aborted) onCancel();
    cancel?.addEventListener('abort', onCancel, { once: true });

    const results: JsonObject = {};
    let current: JobAction | undefined;
    try {
      for (current of job.actions) {
        results[resultKey(results, current.plugin)] = await this.runAction(
          job,
          current,
          run.signal,
        );
      }
      return this.finish(job, { outcome: 'succeeded', startedAt, started, results });
    } catch (error) {
      const cause: unknown = run.signal.aborted ? run.signal.reason : error;
      const outcome: RunOutcome =
        cause instanceof RunTimeout
          ? 'timed_out'
          : cause instanceof RunCancelled
            ? 'cancelled'
            : 'failed';
      return this.finish(job, {
        outcome,
        startedAt,
        started,
        results,
        error: `${current?.plugin ?? job.name}: ${describe(cause)}`,
        errorStack: outcome === 'failed' && cause instanceof Error ? cause.stack : undefined,
      });
    } finally {
      clearTimeout(timer);
      cancel?.removeEventListener('abort', onCancel);
    }
  }

  private async runAction(
    job: JobDefinition,
    action: JobAction,
    signal: AbortSignal,
  ): Promise<JsonValue> {
    const plugin = this.plugins.get(action.plugin);
    if (!plugin) throw new Error(`plugin "${action.plugin}" is not loaded`);
    const context = this.contexts.create(job, action, signal);
    // Starting inside then() turns a synchronous throw into a rejection like any other.
    const running = Promise.resolve().then(() => plugin.instance.run(context));
    // A plugin abandoned at its timeout may still fail later; that must not crash the process.
    running.catch(() => undefined);
    return toJson(await untilAborted(running, signal));
  }

  private finish(
    job: JobDefinition,
    run: Omit<JobRunResult, 'durationMs' | 'error'> & { started: number; error?: string },
  ): JobRunResult {
    const result: JobRunResult = {
      outcome: run.outcome,
      startedAt: run.startedAt,
      durationMs: Math.round(performance.now() - run.started),
      error: run.error ?? null,
      results: run.results,
      ...(run.errorStack ? { errorStack: run.errorStack } : {}),
    };
    const summary = `job ${job.name}: ${result.outcome} in ${result.durationMs} ms`;
    if (result.outcome === 'succeeded') this.logger.log(summary);
    else this.logger.warn(`${summary}: ${result.error}`);
    return result;
  }
}

function resultKey(results: JsonObject, plugin: string): string {
  let key = plugin;
  for (let repeat = 2; key in results; repeat += 1) key = `${plugin}#${repeat}`;
  return key;
}

/** Settles with `work`, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A plugin's report as plain JSON; nothing (undefined) is recorded as null. */
function toJson(value: unknown): JsonValue {
  if (value === undefined || value === null) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as JsonValue;
  } catch (error) {
    throw new Error(`its result is not JSON: ${(error as Error).message}`);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : `threw ${JSON.stringify(error) ?? String(error)}`;
}
