import { CronTime } from 'cron';
import type { TriggerSpec } from './job-config.js';

/**
 * When a job fires. Both kinds fire on wall-clock slots (an interval job every N minutes counted
 * from the Unix epoch, not from the start of the process), so every replica computes the same
 * slot for a tick: the slot is what makes a cluster job run once per tick.
 */
export interface Trigger {
  /** The first slot strictly after `time`. */
  nextAfter(time: Date): Date;
}

export function triggerFor(spec: TriggerSpec): Trigger {
  return spec.type === 'intervalMinutes'
    ? new IntervalTrigger(spec.value)
    : new CronTrigger(spec.expression, spec.timezone);
}

class IntervalTrigger implements Trigger {
  private readonly periodMs: number;

  constructor(minutes: number) {
    this.periodMs = Math.round(minutes * 60_000);
  }

  nextAfter(time: Date): Date {
    return new Date((Math.floor(time.getTime() / this.periodMs) + 1) * this.periodMs);
  }
}

class CronTrigger implements Trigger {
  private readonly cronTime: CronTime;

  constructor(
    expression: string,
    private readonly timezone: string,
  ) {
    this.cronTime = new CronTime(expression, timezone);
  }

  nextAfter(time: Date): Date {
    return this.cronTime.getNextDateFrom(time, this.timezone).toJSDate();
  }
}
