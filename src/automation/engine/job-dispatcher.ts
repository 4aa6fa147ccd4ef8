import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Rejection } from '../../common/rejection.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { JobAlreadyRunningError, ReplicaStoppingError } from '../automation.errors.js';
import { AutomationRunRepository } from './automation-run.repository.js';
import { ClusterLeaseRepository, type ClusterLock } from './cluster-lease.repository.js';
import type { JobDefinition } from '../jobs/job-config.js';
import { JobExecutor } from './job-executor.js';

/** A scheduled tick (`tick` is its wall-clock slot) or a "run now" from the control API. */
type RunRequest = { kind: 'schedule'; tick: Date } | { kind: 'manual' };

interface RunningJob {
  cancel: AbortController;
  /** Settles once the run is recorded, or once the start was refused. */
  finished: Promise<void>;
  settle(): void;
}

export interface StartedRun {
  runId: number;
  /** Settles once the outcome is recorded; never rejects. */
  finished: Promise<void>;
}

/**
 * Starts runs inside the service: a job never overlaps itself on this replica, a cluster job runs
 * on one replica per tick, and every run is recorded in `automation_runs`. Nothing a plugin does
 * reaches the caller: the executor turns it into an outcome.
 */
@Injectable()
export class JobDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobDispatcher.name);
  private readonly running = new Map<string, RunningJob>();
  private stopping = false;

  constructor(
    private readonly executor: JobExecutor,
    private readonly runs: AutomationRunRepository,
    private readonly leases: ClusterLeaseRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      const interrupted = await this.runs.markInterrupted(this.config.nodeId);
      if (interrupted > 0)
        this.logger.warn(`${interrupted} run(s) of an earlier process of this node never ended`);
    } catch (error) {
      this.logger.warn(`cannot tidy up earlier runs: ${(error as Error).message}`);
    }
  }

  /** Cancels the runs in flight and waits until their outcome is recorded. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const running = [...this.running.values()];
    running.forEach((run) => run.cancel.abort());
    await Promise.all(running.map((run) => run.finished));
  }

  isRunning(job: string): boolean {
    return this.running.has(job);
  }

  /** One tick of the scheduler. Resolves when the run has ended or was skipped; never rejects. */
  async runScheduled(job: JobDefinition, tick: Date): Promise<void> {
    try {
      const started = await this.start(job, { kind: 'schedule', tick });
      await started?.finished;
    } catch (error) {
      this.logger.warn(
        `job ${job.name} not run at ${tick.toISOString()}: ${(error as Error).message}`,
      );
    }
  }

  /** "Run now": resolves with the id of the recorded run as soon as it has started. */
  async runNow(job: JobDefinition): Promise<number> {
    try {
      // A manual request that cannot start is refused with an exception, never undefined.
      const started = await this.start(job, { kind: 'manual' });
      return started!.runId;
    } catch (error) {
      if (error instanceof Rejection) throw error;
      this.logger.warn(`job ${job.name} not started: ${(error as Error).message}`);
      throw new Rejection(
        'store_unavailable',
        `Job ${job.name} cannot be started and recorded now`,
      );
    }
  }

  private async start(job: JobDefinition, request: RunRequest): Promise<StartedRun | undefined> {
    if (this.stopping) return this.refuse(job, request, 'the replica is shutting down');
    if (this.running.has(job.name))
      return this.refuse(job, request, 'its previous run is still in progress on this replica');

    // Reserved before the first await, so two triggers at once cannot both start the job.
    const reservation = reserve();
    this.running.set(job.name, reservation);
    let lock: ClusterLock | undefined;
    let handedOver = false;
    try {
      if (job.scope === 'cluster') {
        lock = await this.leases.tryLock(job.name);
        if (!lock) return this.refuse(job, request, 'it is in progress on another replica');
        const claimed =
          request.kind === 'manual' ||
          (await this.leases.claimTick(job.name, request.tick, this.config.nodeId));
        if (!claimed) return this.refuse(job, request, 'another replica ran this tick', 'debug');
      }
      const runId = await this.runs.start({
        job: job.name,
        plugin: job.actions.map((action) => action.plugin).join(', '),
        node: this.config.nodeId,
        scope: job.scope,
        trigger: request.kind,
        startedAt: new Date(),
      });
      void this.complete(job, runId, reservation, lock);
      handedOver = true;
      return { runId, finished: reservation.finished };
    } finally {
      if (!handedOver) {
        await lock?.release().catch((error: Error) => this.logger.warn(error.message));
        this.running.delete(job.name);
        reservation.settle();
      }
    }
  }

  private async complete(
    job: JobDefinition,
    runId: number,
    run: RunningJob,
    lock: ClusterLock | undefined,
  ): Promise<void> {
    try {
      const result = await this.executor.execute(job, run.cancel.signal);
      await this.runs.finish(runId, result);
    } catch (error) {
      this.logger.error(
        `run ${runId} of job ${job.name} not recorded: ${(error as Error).message}`,
      );
    } finally {
      await lock?.release().catch((error: Error) => this.logger.warn(error.message));
      this.running.delete(job.name);
      run.settle();
    }
  }

  /** A manual run that cannot start is refused (409/503); a skipped tick is only logged. */
  private refuse(
    job: JobDefinition,
    request: RunRequest,
    reason: string,
    level: 'debug' | 'warn' = 'warn',
  ): undefined {
    if (request.kind === 'manual') {
      throw this.stopping
        ? new ReplicaStoppingError(job.name, reason)
        : new JobAlreadyRunningError(job.name, reason);
    }
    this.logger[level](`job ${job.name} skipped at ${request.tick.toISOString()}: ${reason}`);
    return undefined;
  }
}

function reserve(): RunningJob {
  let settle!: () => void;
  const finished = new Promise<void>((resolve) => (settle = resolve));
  return { cancel: new AbortController(), finished, settle };
}
