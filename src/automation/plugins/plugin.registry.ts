import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { NAME_PATTERN } from '../../client/bridge-wire.js';
import { PluginLoadError } from './plugin-loader.js';
import { AutomationPlugin, type PluginMeta } from './plugin.decorator.js';
import type { RunnablePlugin } from './plugin.types.js';

export interface RegisteredPlugin {
  meta: PluginMeta;
  instance: RunnablePlugin;
}

/**
 * Finds the providers tagged `@AutomationPlugin` at start (the explorer pattern of
 * `@nestjs/schedule`). A plugin without a usable name or `run` method stops the start.
 */
@Injectable()
export class PluginRegistry implements OnModuleInit {
  private readonly logger = new Logger(PluginRegistry.name);
  private plugins: Map<string, RegisteredPlugin> | undefined;

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    this.explored();
  }

  get(name: string): RegisteredPlugin | undefined {
    return this.explored().get(name);
  }

  names(): string[] {
    return [...this.explored().keys()].sort();
  }

  /** Explores once, on init or on the first question, whichever module hook runs first. */
  private explored(): Map<string, RegisteredPlugin> {
    if (!this.plugins) {
      this.plugins = this.explore();
      this.logger.log(`discovered plugins: ${[...this.plugins.keys()].join(', ') || 'none'}`);
    }
    return this.plugins;
  }

  private explore(): Map<string, RegisteredPlugin> {
    const plugins = new Map<string, RegisteredPlugin>();
    const problems: string[] = [];
    for (const wrapper of this.discovery.getProviders({ metadataKey: AutomationPlugin.KEY })) {
      const meta = this.discovery.getMetadataByDecorator(AutomationPlugin, wrapper);
      const instance: unknown = wrapper.instance;
      const label = `plugin class ${wrapper.name}`;
      if (!meta || typeof meta.name !== 'string' || !NAME_PATTERN.test(meta.name)) {
        problems.push(`${label}: @AutomationPlugin({ name }) needs a name of A-Z a-z 0-9 . _ -`);
      } else if (!wrapper.isDependencyTreeStatic() || !hasRunMethod(instance)) {
        problems.push(`${label}: must be a singleton provider with a run(context) method`);
      } else if (plugins.has(meta.name)) {
        problems.push(`${label}: the name "${meta.name}" is taken by another plugin`);
      } else {
        plugins.set(meta.name, { meta, instance });
      }
    }
    if (problems.length > 0) throw new PluginLoadError(problems);
    return plugins;
  }
}

function hasRunMethod(instance: unknown): instance is RunnablePlugin {
  return (
    typeof instance === 'object' &&
    instance !== null &&
    typeof (instance as { run?: unknown }).run === 'function'
  );
}
