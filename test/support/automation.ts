import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { RunRecord } from '../../src/automation/runner/node-report.js';

/** The built-in plugins and the fixtures of test/fixtures/plugins, for in-process bridges. */
export const TEST_PLUGIN_DIRS = [
  join(process.cwd(), 'plugins'),
  join(process.cwd(), 'test', 'fixtures', 'plugins'),
].join(delimiter);

/** Writes `jobs` as an automation.json in a fresh temporary folder and returns its path. */
export function writeJobFile(jobs: unknown[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bridge-automation-')), 'automation.json');
  writeFileSync(path, JSON.stringify(jobs, null, 2));
  return path;
}

/** The runs the automation runner reported for `node` under `reportsDir` (its run_*.jsonl). */
export function reportedRuns(reportsDir: string, node: string): RunRecord[] {
  const [file] = readdirSync(join(reportsDir, node)).filter((name) => /^run_.*\.jsonl$/.test(name));
  return readFileSync(join(reportsDir, node, file), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RunRecord);
}

/** A job of one plugin, in the seed's format. */
export function jobOf(
  name: string,
  plugin: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    trigger: { type: 'intervalMinutes', value: 60 },
    actions: [{ type: 'run_plugin', plugin_name: plugin }],
    ...extra,
  };
}

/** Polls `probe` until it returns a value other than undefined, failing after `timeoutMs`. */
export async function pollFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}
