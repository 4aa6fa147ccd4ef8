import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { loadJobFile, type JobDefinition } from './job-config.js';
import { PluginRegistry } from '../plugins/plugin.registry.js';

/** Injection token of the path of the job file (automation.json). */
export const JOB_FILE = Symbol('JOB_FILE');

/** The validated jobs. An invalid file stops the start with every problem named. */
@Injectable()
export class JobCatalog implements OnModuleInit {
  private readonly logger = new Logger(JobCatalog.name);
  private jobs: JobDefinition[] = [];

  constructor(
    @Inject(JOB_FILE) private readonly path: string,
    private readonly plugins: PluginRegistry,
  ) {}

  onModuleInit(): void {
    this.jobs = loadJobFile(this.path, this.plugins.names());
    this.logger.log(`loaded ${this.jobs.length} automation job(s) from ${this.path}`);
  }

  all(): readonly JobDefinition[] {
    return this.jobs;
  }

  get(name: string): JobDefinition | undefined {
    return this.jobs.find((job) => job.name === name);
  }
}
