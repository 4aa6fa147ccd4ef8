import { Inject, Injectable, Logger } from '@nestjs/common';
import { AUTOMATION_HOST, type AutomationHost } from '../automation-host.js';
import { BridgeClient } from '../../client/bridge-client.js';
import type { JobAction, JobDefinition } from '../jobs/job-config.js';
import type { PluginContext } from '../plugins/plugin.types.js';

/** Builds the context of one plugin run on this host. */
@Injectable()
export class PluginContextFactory {
  private readonly module: string;

  constructor(@Inject(AUTOMATION_HOST) private readonly host: AutomationHost) {
    this.module = BridgeClient.automationModule(host.nodeId);
  }

  create(job: JobDefinition, action: JobAction, signal: AbortSignal): PluginContext {
    return {
      nodeId: this.host.nodeId,
      job: job.name,
      params: action.params,
      bridge: new BridgeClient({
        baseUrl: () => this.host.bridgeUrl(),
        module: this.module,
        nodeId: this.host.nodeId,
        signingKey: this.host.signingKey,
        tokens: this.host.tokens,
        signal,
      }),
      logger: new Logger(`${job.name}/${action.plugin}`),
      signal,
      database: this.host.database,
    };
  }
}
