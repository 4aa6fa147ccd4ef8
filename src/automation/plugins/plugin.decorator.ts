import { DiscoveryService } from '@nestjs/core';

/** What a plugin says about itself; `name` is what `plugin_name` in automation.json refers to. */
export interface PluginMeta {
  name: string;
  description?: string;
}

/**
 * Tags a class as an automation plugin. Every `*.plugin.js` file in the plugins folder is imported
 * at start, its tagged classes become providers, and `PluginRegistry` finds them by this tag.
 */
export const AutomationPlugin = DiscoveryService.createDecorator<PluginMeta>();
