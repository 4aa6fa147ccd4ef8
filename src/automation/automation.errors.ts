import { Rejection } from '../common/rejection.js';

/** "Run now" named a job the job file does not define. */
export class UnknownJobError extends Rejection {
  constructor(job: string) {
    super('unknown_job', `No automation job named "${job}"`);
    this.name = 'UnknownJobError';
  }
}

/** "Run now" for a job whose previous run has not ended (here or, for a cluster job, elsewhere). */
export class JobAlreadyRunningError extends Rejection {
  constructor(job: string, why: string) {
    super('job_running', `Job ${job} is already running: ${why}`);
    this.name = 'JobAlreadyRunningError';
  }
}

/** "Run now" while this replica shuts down: it starts nothing new. */
export class ReplicaStoppingError extends Rejection {
  constructor(job: string, why: string) {
    super('shutting_down', `Job ${job} cannot start: ${why}`);
    this.name = 'ReplicaStoppingError';
  }
}
