import { jest } from '@jest/globals';
import type { JobDefinition } from '../jobs/job-config.js';
import { JobExecutor } from './job-executor.js';
import type { PluginContextFactory } from './plugin-context.factory.js';
import type { PluginRegistry } from '../plugins/plugin.registry.js';
import type { PluginContext, RunnablePlugin } from '../plugins/plugin.types.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

describe('JobExecutor (the run wrapper)', () => {
  const plugins = new Map<string, RunnablePlugin>();
  const registry = {
    get: (name: string) =>
      plugins.has(name) ? { meta: { name }, instance: plugins.get(name)! } : undefined,
  } as unknown as PluginRegistry;
  const contexts = {
    create: (job: JobDefinition, action: JobDefinition['actions'][number], signal: AbortSignal) =>
      ({
        nodeId: 'node-1',
        job: job.name,
        params: action.params,
        signal,
        logger: silent,
      }) as unknown as PluginContext,
  } as unknown as PluginContextFactory;
  const executor = new JobExecutor(registry, contexts);

  const job = (pluginNames: string[], timeoutSeconds = 60): JobDefinition => ({
    name: 'job',
    trigger: { type: 'intervalMinutes', value: 1 },
    actions: pluginNames.map((plugin) => ({ plugin, params: {} })),
    timeoutSeconds,
    scope: 'node',
  });

  beforeEach(() => {
    plugins.clear();
    plugins.set('ok', { run: ({ nodeId }) => ({ node: nodeId }) });
    plugins.set('throws', {
      run: () => {
        throw new Error('boom');
      },
    });
    plugins.set('rejects-with-a-string', { run: () => Promise.reject('no reason') });
    plugins.set('hangs', { run: () => new Promise(() => undefined) });
    plugins.set('circular', {
      run: () => {
        const result: Record<string, unknown> = {};
        result.self = result;
        return result as never;
      },
    });
  });

  afterEach(() => jest.useRealTimers());

  it('runs the actions in order and keeps each result, a repeated plugin under name#2', async () => {
    const result = await executor.execute(job(['ok', 'ok']));
    expect(result).toMatchObject({
      outcome: 'succeeded',
      error: null,
      results: { ok: { node: 'node-1' }, 'ok#2': { node: 'node-1' } },
    });
  });

  it('records a throw as failed, with the plugin name and the stack, and stops the run there', async () => {
    const result = await executor.execute(job(['ok', 'throws', 'ok']));
    expect(result).toMatchObject({
      outcome: 'failed',
      error: 'throws: boom',
      errorStack: expect.stringContaining('Error: boom'),
      results: { ok: { node: 'node-1' } },
    });
    expect(Object.keys(result.results)).toEqual(['ok']);
  });

  it.each([
    ['rejects-with-a-string', 'rejects-with-a-string: no reason'],
    ['circular', expect.stringMatching(/^circular: its result is not JSON/)],
    ['missing', 'missing: plugin "missing" is not loaded'],
  ])('records %s as failed', async (plugin, error) => {
    expect(await executor.execute(job([plugin]))).toMatchObject({ outcome: 'failed', error });
  });

  it('ends a hanging plugin at the job timeout', async () => {
    jest.useFakeTimers();
    const running = executor.execute(job(['hangs'], 5));
    await jest.advanceTimersByTimeAsync(4999);
    let settled = false;
    void running.then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(await running).toMatchObject({
      outcome: 'timed_out',
      error: 'hangs: did not finish within 5 s',
    });
  });

  it('cancels a run when the engine shuts down', async () => {
    const shutdown = new AbortController();
    const running = executor.execute(job(['hangs']), shutdown.signal);
    shutdown.abort();
    expect(await running).toMatchObject({
      outcome: 'cancelled',
      error: 'hangs: cancelled: the engine is shutting down',
    });
  });
});
