import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { JobCatalog } from './job-catalog.js';
import type { JobDefinition } from './job-config.js';
import { JobDispatcher } from '../engine/job-dispatcher.js';
import { triggerFor, type Trigger } from './job-trigger.js';

/** setTimeout's longest delay; a slot further away is waited for in several steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Arms every job's trigger in the `@nestjs/schedule` registry as a one-shot timeout on its next
 * wall-clock slot, hands the slot to the dispatcher when it comes, and re-arms. The ScheduleModule
 * clears these timeouts on shutdown like its own.
 */
@Injectable()
export class JobScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(JobScheduler.name);
  private readonly nextSlots = new Map<string, Date>();
  private stopped = false;

  constructor(
    private readonly registry: SchedulerRegistry,
    private readonly catalog: JobCatalog,
    private readonly dispatcher: JobDispatcher,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.automationEnabled) {
      this.logger.log('scheduling is off (AUTOMATION_ENABLED=false): jobs run only when asked');
      return;
    }
    for (const job of this.catalog.all()) this.arm(job, triggerFor(job.trigger), new Date());
  }

  onModuleDestroy(): void {
    this.stopped = true;
    for (const job of this.nextSlots.keys()) this.disarm(job);
    this.nextSlots.clear();
  }

  get enabled(): boolean {
    return this.config.automationEnabled;
  }

  /** When the job fires next on this replica; undefined when scheduling is off. */
  nextRun(job: string): Date | undefined {
    return this.nextSlots.get(job);
  }

  private arm(job: JobDefinition, trigger: Trigger, after: Date): void {
    if (this.stopped) return;
    const slot = trigger.nextAfter(after);
    this.nextSlots.set(job.name, slot);
    this.waitFor(job, trigger, slot);
  }

  private waitFor(job: JobDefinition, trigger: Trigger, slot: Date): void {
    const delay = Math.min(Math.max(slot.getTime() - Date.now(), 0), MAX_TIMER_DELAY_MS);
    const timer = setTimeout(() => this.fire(job, trigger, slot), delay);
    this.registry.addTimeout(timerName(job.name), timer);
  }

  private fire(job: JobDefinition, trigger: Trigger, slot: Date): void {
    this.disarm(job.name);
    if (this.stopped) return;
    if (Date.now() < slot.getTime()) return this.waitFor(job, trigger, slot);
    void this.dispatcher.runScheduled(job, slot);
    // After a stall (a suspended process) missed slots are not caught up: the next one is due.
    this.arm(job, trigger, new Date(Math.max(Date.now(), slot.getTime())));
  }

  private disarm(job: string): void {
    if (this.registry.doesExist('timeout', timerName(job)))
      this.registry.deleteTimeout(timerName(job));
  }
}

function timerName(job: string): string {
  return `automation:${job}`;
}
