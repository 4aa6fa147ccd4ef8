import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Type } from '@nestjs/common';
import { ProblemsError } from '../../common/problems.error.js';
import { AutomationPlugin } from './plugin.decorator.js';

const THIS_FILE = fileURLToPath(import.meta.url);

/** The built-in plugins: `plugins/` beside `src/`, which is `dist/plugins` once compiled. */
export const BUILT_IN_PLUGINS_DIR = resolve(dirname(THIS_FILE), '..', '..', '..', 'plugins');

/** Compiled plugins end in `.plugin.js`; run from TypeScript sources (jest), `.plugin.ts`. */
const PLUGIN_SOURCE = /\.plugin\.ts$/;
const PLUGIN_FILE = THIS_FILE.endsWith('.ts') ? PLUGIN_SOURCE : /\.plugin\.m?js$/;

/** Every plugin file that could not be used, so an operator fixes them in one pass. */
export class PluginLoadError extends ProblemsError {
  override name = 'PluginLoadError';

  constructor(problems: string[]) {
    super('Cannot load automation plugins', problems);
  }
}

/**
 * Imports every plugin file in `dirs` and returns the classes tagged with `@AutomationPlugin`.
 * This is what makes a file dropped into `plugins/` available without touching other code.
 */
export async function loadPluginClasses(dirs: readonly string[]): Promise<Type[]> {
  const problems: string[] = [];
  const classes = new Set<Type>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (error) {
      problems.push(`plugins folder ${dir} cannot be read: ${(error as Error).message}`);
      continue;
    }
    const files = names.filter((file) => PLUGIN_FILE.test(file)).sort();
    // Compiled code cannot import the sources: the folder meant is the one they are built into.
    if (files.length === 0 && names.some((file) => PLUGIN_SOURCE.test(file)))
      problems.push(
        `plugins folder ${dir} holds TypeScript sources (*.plugin.ts) and no compiled *.plugin.js: pass the folder they are built into (the built-in plugins: dist/plugins)`,
      );
    for (const file of files) {
      const path = join(dir, file);
      try {
        const exported: Record<string, unknown> = await import(pathToFileURL(path).href);
        const tagged = Object.values(exported).filter(isTaggedClass);
        if (tagged.length === 0) problems.push(`${path} exports no class tagged @AutomationPlugin`);
        tagged.forEach((plugin) => classes.add(plugin));
      } catch (error) {
        problems.push(`${path} cannot be imported: ${(error as Error).message}`);
      }
    }
  }
  if (problems.length > 0) throw new PluginLoadError(problems);
  return [...classes];
}

function isTaggedClass(value: unknown): value is Type {
  return typeof value === 'function' && Reflect.hasOwnMetadata(AutomationPlugin.KEY, value);
}
