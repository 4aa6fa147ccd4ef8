import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../config/app-config.js';
import { AutomationCoreModule } from './automation-core.module.js';
import { AutomationRunJanitor } from './engine/automation-run.janitor.js';
import { AutomationRunRepository } from './engine/automation-run.repository.js';
import { AutomationController } from './automation.controller.js';
import { AutomationService } from './automation.service.js';
import { ClusterLeaseRepository } from './engine/cluster-lease.repository.js';
import { JobDispatcher } from './engine/job-dispatcher.js';
import { JobScheduler } from './jobs/job-scheduler.js';
import { BUILT_IN_PLUGINS_DIR } from './plugins/plugin-loader.js';
import { serviceHostProvider } from './service-host.provider.js';

/** The automation engine inside the service: scheduled jobs, run history, the control API. */
@Module({})
export class AutomationModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AutomationModule,
      imports: [
        AutomationCoreModule.forRoot({
          pluginDirs: config.pluginDirs ?? [BUILT_IN_PLUGINS_DIR],
          jobFile: config.automationConfigPath,
          host: serviceHostProvider,
        }),
      ],
      controllers: [AutomationController],
      providers: [
        AutomationRunRepository,
        ClusterLeaseRepository,
        JobDispatcher,
        JobScheduler,
        AutomationService,
        AutomationRunJanitor,
      ],
    };
  }
}
