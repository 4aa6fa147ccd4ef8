import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { loadPluginClasses } from './plugin-loader.js';
import { PluginRegistry } from './plugin.registry.js';

/** Imports the plugin files of `dirs` and registers their tagged classes as providers. */
@Module({})
export class PluginDiscoveryModule {
  static async register(dirs: readonly string[]): Promise<DynamicModule> {
    const plugins = await loadPluginClasses(dirs);
    return {
      module: PluginDiscoveryModule,
      imports: [DiscoveryModule],
      providers: [...plugins, PluginRegistry],
      exports: [PluginRegistry],
    };
  }
}
