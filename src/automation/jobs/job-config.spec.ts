import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutomationConfigError, loadJobFile, parseJobs } from './job-config.js';

const KNOWN = ['heartbeat', 'sync_test'];

function problemsOf(jobs: unknown): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-jobs-'));
  const path = join(dir, 'automation.json');
  writeFileSync(path, typeof jobs === 'string' ? jobs : JSON.stringify(jobs));
  try {
    loadJobFile(path, KNOWN);
  } catch (error) {
    expect(error).toBeInstanceOf(AutomationConfigError);
    expect((error as Error).message).toContain(path);
    return (error as AutomationConfigError).problems;
  }
  throw new Error('the file was accepted');
}

const heartbeat = {
  name: 'heartbeat',
  trigger: { type: 'intervalMinutes', value: 5 },
  actions: [{ type: 'run_plugin', plugin_name: 'heartbeat' }],
};

describe('automation.json validation', () => {
  it('reads the seed format with defaults, cron triggers, params and scopes', () => {
    const { jobs, problems } = parseJobs({
      jobs: [
        heartbeat,
        {
          name: 'sync',
          trigger: { type: 'cron', expression: '*/10 * * * *', timezone: 'Europe/Berlin' },
          actions: [{ type: 'run_plugin', plugin_name: 'sync_test', params: { b: 2 } }],
          params: { a: 1, b: 1 },
          timeoutSeconds: 5,
          scope: 'cluster',
        },
      ],
    });
    expect(problems).toEqual([]);
    expect(jobs).toEqual([
      {
        name: 'heartbeat',
        trigger: { type: 'intervalMinutes', value: 5 },
        actions: [{ plugin: 'heartbeat', params: {} }],
        timeoutSeconds: 60,
        scope: 'node',
      },
      {
        name: 'sync',
        trigger: { type: 'cron', expression: '*/10 * * * *', timezone: 'Europe/Berlin' },
        actions: [{ plugin: 'sync_test', params: { a: 1, b: 2 } }],
        timeoutSeconds: 5,
        scope: 'cluster',
      },
    ]);
  });

  it('names the job and the field of every problem, all in one error', () => {
    expect(
      problemsOf([
        {
          ...heartbeat,
          name: 'unknown-plugin',
          actions: [{ type: 'run_plugin', plugin_name: 'nope' }],
        },
        { ...heartbeat, name: 'bad-interval', trigger: { type: 'intervalMinutes', value: 0 } },
        { ...heartbeat, name: 'bad-cron', trigger: { type: 'cron', expression: '61 * * * *' } },
        {
          ...heartbeat,
          name: 'bad-zone',
          trigger: { type: 'cron', expression: '* * * * *', timezone: 'Mars/Base' },
        },
        { ...heartbeat, name: 'bad-type', trigger: { type: 'hourly' } },
        { name: 'no-trigger', actions: heartbeat.actions },
        { name: 'no-actions', trigger: heartbeat.trigger },
        {
          ...heartbeat,
          name: 'bad-action',
          actions: [{ type: 'run_script', plugin_name: 'heartbeat' }],
        },
        { ...heartbeat, name: 'bad-scope', scope: 'everywhere' },
        { ...heartbeat, name: 'bad-timeout', timeoutSeconds: -1 },
        { ...heartbeat, name: 'typo', timeout: 5 },
        { ...heartbeat, name: undefined },
        heartbeat,
        heartbeat,
      ]),
    ).toEqual([
      'job "bad-interval": trigger.value must be a number of minutes greater than 0',
      expect.stringMatching(/^job "bad-cron": trigger\.expression is invalid: /),
      expect.stringMatching(/^job "bad-zone": trigger\.timezone is invalid: /),
      'job "bad-type": trigger.type must be "intervalMinutes" or "cron"',
      expect.stringMatching(/^job "no-trigger": trigger is required/),
      expect.stringMatching(/^job "no-actions": actions must be a non-empty list/),
      'job "bad-action": actions[0].type must be "run_plugin"',
      'job "bad-scope": scope must be "node" or "cluster"',
      expect.stringMatching(/^job "bad-timeout": timeoutSeconds must be a number of seconds/),
      expect.stringMatching(/^job "typo": unknown field "timeout"/),
      expect.stringMatching(/^job #12: name is required/),
      'job "heartbeat": name is used by more than one job',
      expect.stringMatching(
        /^job "unknown-plugin": actions\[0\]\.plugin_name "nope" is not a discovered plugin \(discovered: heartbeat, sync_test\)$/,
      ),
    ]);
  });

  it('explains a file that is not JSON or not a list of jobs', () => {
    expect(problemsOf('{"jobs": [')).toEqual([expect.stringMatching(/^cannot read it as JSON/)]);
    expect(problemsOf({ job: heartbeat })).toEqual([
      'the file must hold a list of jobs, or {"jobs": [...]}',
    ]);
  });
});
