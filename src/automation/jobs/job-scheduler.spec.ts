import { jest } from '@jest/globals';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { loadConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { JobCatalog } from './job-catalog.js';
import type { JobDefinition, TriggerSpec } from './job-config.js';
import { JobDispatcher } from '../engine/job-dispatcher.js';
import { JobScheduler } from './job-scheduler.js';

const START = '2026-11-26T10:00:30.000Z';
const MINUTE = 60_000;

function job(name: string, trigger: TriggerSpec): JobDefinition {
  return {
    name,
    trigger,
    actions: [{ plugin: 'heartbeat', params: {} }],
    timeoutSeconds: 60,
    scope: 'node',
  };
}

describe('JobScheduler (fake timers)', () => {
  let fired: string[];
  let moduleRef: TestingModule;

  async function startScheduler(jobs: JobDefinition[], automationEnabled = true) {
    moduleRef = await Test.createTestingModule({
      providers: [
        JobScheduler,
        SchedulerRegistry,
        { provide: JobCatalog, useValue: { all: () => jobs } },
        {
          provide: JobDispatcher,
          useValue: {
            runScheduled: async (definition: JobDefinition, tick: Date) => {
              fired.push(`${definition.name}@${tick.toISOString()}`);
            },
          },
        },
        {
          provide: APP_CONFIG,
          useValue: { ...loadConfig({ NODE_ENV: 'test' }), automationEnabled },
        },
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef.get(JobScheduler);
  }

  beforeEach(() => {
    fired = [];
    jest.useFakeTimers({ now: new Date(START) });
  });

  afterEach(async () => {
    await moduleRef.close();
    jest.useRealTimers();
  });

  it('fires an interval job on every wall-clock multiple of its interval', async () => {
    const scheduler = await startScheduler([job('beat', { type: 'intervalMinutes', value: 5 })]);
    expect(scheduler.nextRun('beat')?.toISOString()).toBe('2026-11-26T10:05:00.000Z');

    await jest.advanceTimersByTimeAsync(4 * MINUTE + 29_999);
    expect(fired).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['beat@2026-11-26T10:05:00.000Z']);
    await jest.advanceTimersByTimeAsync(10 * MINUTE);
    expect(fired).toEqual([
      'beat@2026-11-26T10:05:00.000Z',
      'beat@2026-11-26T10:10:00.000Z',
      'beat@2026-11-26T10:15:00.000Z',
    ]);
    expect(scheduler.nextRun('beat')?.toISOString()).toBe('2026-11-26T10:20:00.000Z');
  });

  it('fires a cron job at the times of its expression, in its time zone', async () => {
    await startScheduler([
      job('probe', { type: 'cron', expression: '*/10 * * * *', timezone: 'UTC' }),
      job('berlin', { type: 'cron', expression: '30 11 * * *', timezone: 'Europe/Berlin' }),
    ]);
    await jest.advanceTimersByTimeAsync(25 * MINUTE);
    expect(fired).toEqual(['probe@2026-11-26T10:10:00.000Z', 'probe@2026-11-26T10:20:00.000Z']);
    await jest.advanceTimersByTimeAsync(10 * MINUTE);
    // 11:30 in Berlin (UTC+1 in November) is 10:30 UTC.
    expect(fired.slice(2).sort()).toEqual([
      'berlin@2026-11-26T10:30:00.000Z',
      'probe@2026-11-26T10:30:00.000Z',
    ]);
  });

  it('arms nothing when scheduling is off', async () => {
    const scheduler = await startScheduler(
      [job('beat', { type: 'intervalMinutes', value: 1 })],
      false,
    );
    await jest.advanceTimersByTimeAsync(60 * MINUTE);
    expect(fired).toEqual([]);
    expect(scheduler.nextRun('beat')).toBeUndefined();
  });

  it('stops firing once the application shuts down', async () => {
    await startScheduler([job('beat', { type: 'intervalMinutes', value: 1 })]);
    await jest.advanceTimersByTimeAsync(MINUTE);
    expect(fired).toHaveLength(1);
    await moduleRef.close();
    await jest.advanceTimersByTimeAsync(10 * MINUTE);
    expect(fired).toHaveLength(1);
  });
});
