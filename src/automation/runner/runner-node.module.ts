import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG, ConfigModule } from '../../config/config.module.js';
import { AutomationCoreModule } from '../automation-core.module.js';
import { AUTOMATION_HOST, type AutomationHost } from '../automation-host.js';
import { BridgeClient } from '../../client/bridge-client.js';
import { SigningKey } from '../../client/signing-key.js';
import { keyPaths } from '../../security/key-files.js';
import { tokensFromConfig } from '../../security/sender-tokens.js';

export interface RunnerNodeOptions {
  /** The environment's configuration, with `nodeId` set to this node. */
  config: AppConfig;
  pluginDirs: readonly string[];
  jobFile: string;
}

/** The engine of one runner node: the shared core, sending to BRIDGE_URL, without HTTP or database. */
@Module({})
export class RunnerNodeModule {
  static forNode({ config, pluginDirs, jobFile }: RunnerNodeOptions): DynamicModule {
    return {
      module: RunnerNodeModule,
      imports: [
        ConfigModule.forRoot(config),
        AutomationCoreModule.forRoot({
          pluginDirs,
          jobFile,
          host: {
            provide: AUTOMATION_HOST,
            inject: [APP_CONFIG],
            useFactory: (appConfig: AppConfig): AutomationHost => ({
              nodeId: appConfig.nodeId,
              bridgeUrl: () => appConfig.bridgeUrl,
              tokens: tokensFromConfig(
                appConfig,
                BridgeClient.automationModule(appConfig.nodeId),
                'automation',
              ),
              signingKey: new SigningKey(keyPaths(appConfig.keysDir).privateKey),
            }),
          },
        }),
      ],
    };
  }
}
