import { Inject, Injectable } from '@nestjs/common';
import { NAME_PATTERN } from '../client/bridge-wire.js';
import { Rejection } from '../common/rejection.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { UnknownJobError } from './automation.errors.js';
import { AutomationRunRepository, type RecordedRun } from './engine/automation-run.repository.js';
import { JobCatalog } from './jobs/job-catalog.js';
import type { JobScope, TriggerSpec } from './jobs/job-config.js';
import { JobDispatcher } from './engine/job-dispatcher.js';
import { JobScheduler } from './jobs/job-scheduler.js';

/** Run history pages are capped at this many rows. */
export const MAX_RUNS_LIMIT = 500;

export interface JobView {
  name: string;
  description: string | null;
  scope: JobScope;
  trigger: TriggerSpec;
  timeout_seconds: number;
  plugins: string[];
  /** Running on this replica now. */
  running: boolean;
  /** This replica's next slot; null when its scheduling is off. */
  next_run: string | null;
  /** The latest recorded run on any replica. */
  last_run: RecordedRun | null;
}

export interface JobList {
  node: string;
  scheduling: boolean;
  jobs: JobView[];
}

/** The control API of SPEC §8. */
@Injectable()
export class AutomationService {
  constructor(
    private readonly catalog: JobCatalog,
    private readonly scheduler: JobScheduler,
    private readonly dispatcher: JobDispatcher,
    private readonly runs: AutomationRunRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async jobs(): Promise<JobList> {
    const latest = await this.runs.latestPerJob();
    return {
      node: this.config.nodeId,
      scheduling: this.scheduler.enabled,
      jobs: this.catalog.all().map((job) => ({
        name: job.name,
        description: job.description ?? null,
        scope: job.scope,
        trigger: job.trigger,
        timeout_seconds: job.timeoutSeconds,
        plugins: job.actions.map((action) => action.plugin),
        running: this.dispatcher.isRunning(job.name),
        next_run: this.scheduler.nextRun(job.name)?.toISOString() ?? null,
        last_run: latest.get(job.name) ?? null,
      })),
    };
  }

  async history(job: unknown, limit: number): Promise<{ runs: RecordedRun[] }> {
    if (job !== undefined && typeof job !== 'string')
      throw new Rejection('invalid_parameter', 'job must be given at most once');
    // Job names follow the job file's rule; anything else (a NUL byte, say) names no job.
    if (job && !NAME_PATTERN.test(job))
      throw new Rejection('invalid_parameter', 'job must be 1-64 characters of A-Z a-z 0-9 . _ -');
    return { runs: await this.runs.list(job || undefined, Math.min(limit, MAX_RUNS_LIMIT)) };
  }

  async runNow(name: string): Promise<{ run_id: number; job: string; outcome: 'running' }> {
    const job = this.catalog.get(name);
    if (!job) throw new UnknownJobError(name);
    return { run_id: await this.dispatcher.runNow(job), job: name, outcome: 'running' };
  }
}
