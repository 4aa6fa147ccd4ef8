import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { JOB_FILE, JobCatalog } from './jobs/job-catalog.js';
import { JobExecutor } from './engine/job-executor.js';
import { PluginContextFactory } from './engine/plugin-context.factory.js';
import { PluginDiscoveryModule } from './plugins/plugin-discovery.module.js';

export interface AutomationCoreOptions {
  pluginDirs: readonly string[];
  jobFile: string;
  /** Provides `AUTOMATION_HOST`: the service's or the runner's. */
  host: Provider;
}

/**
 * The engine both the service and the CLI runner run: plugin discovery, the validated jobs and
 * the run wrapper. Scheduling and recording belong to the host.
 */
@Module({})
export class AutomationCoreModule {
  static forRoot(options: AutomationCoreOptions): DynamicModule {
    return {
      module: AutomationCoreModule,
      imports: [PluginDiscoveryModule.register(options.pluginDirs)],
      providers: [
        options.host,
        { provide: JOB_FILE, useValue: options.jobFile },
        JobCatalog,
        PluginContextFactory,
        JobExecutor,
      ],
      exports: [JobCatalog, JobExecutor],
    };
  }
}
