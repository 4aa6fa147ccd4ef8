import { readFileSync } from 'node:fs';
import { CronTime } from 'cron';
import type { JsonObject } from '../../common/canonical-json.js';

export type JobScope = 'node' | 'cluster';

export type TriggerSpec =
  | { type: 'intervalMinutes'; value: number }
  | { type: 'cron'; expression: string; timezone: string };

export interface JobAction {
  plugin: string;
  /** The job's params with the action's own params laid over them. */
  params: JsonObject;
}

/** One validated job of automation.json. */
export interface JobDefinition {
  name: string;
  description?: string;
  trigger: TriggerSpec;
  /** Run in order; a run stops at the first action that does not succeed. */
  actions: JobAction[];
  timeoutSeconds: number;
  /** `node`: every replica runs it; `cluster`: one replica per tick. */
  scope: JobScope;
}

export const DEFAULT_TIMEOUT_SECONDS = 60;
const MAX_TIMEOUT_SECONDS = 3600;
const JOB_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const JOB_FIELDS = [
  'name',
  'description',
  'trigger',
  'actions',
  'timeoutSeconds',
  'params',
  'scope',
];

/** Every problem of a job file, so an operator fixes them in one pass. */
export class AutomationConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid automation config ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AutomationConfigError';
  }
}

/**
 * Reads and validates a job file. `knownPlugins` are the discovered plugin names; an action naming
 * another plugin is a problem of its job.
 */
export function loadJobFile(path: string, knownPlugins: readonly string[]): JobDefinition[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AutomationConfigError(path, [`cannot read it as JSON: ${(error as Error).message}`]);
  }
  const { jobs, problems } = parseJobs(raw);
  problems.push(...unknownPluginProblems(jobs, knownPlugins));
  if (problems.length > 0) throw new AutomationConfigError(path, problems);
  return jobs;
}

/**
 * Accepts the seed's list of jobs, or `{"jobs": [...]}`. Returns the jobs that are valid and a
 * problem per invalid field, each naming its job and field.
 */
export function parseJobs(raw: unknown): { jobs: JobDefinition[]; problems: string[] } {
  const list = Array.isArray(raw) ? raw : isObject(raw) ? raw.jobs : undefined;
  if (!Array.isArray(list)) {
    return { jobs: [], problems: ['the file must hold a list of jobs, or {"jobs": [...]}'] };
  }
  const problems: string[] = [];
  const jobs: JobDefinition[] = [];
  const seen = new Set<string>();
  list.forEach((entry: unknown, index) => {
    const job = new JobReader(entry, index, problems).read();
    if (!job) return;
    if (seen.has(job.name)) problems.push(`job "${job.name}": name is used by more than one job`);
    seen.add(job.name);
    jobs.push(job);
  });
  return { jobs, problems };
}

function unknownPluginProblems(jobs: JobDefinition[], knownPlugins: readonly string[]): string[] {
  const known = new Set(knownPlugins);
  const listed = knownPlugins.length > 0 ? [...knownPlugins].sort().join(', ') : 'none';
  return jobs.flatMap((job) =>
    job.actions.flatMap((action, index) =>
      known.has(action.plugin)
        ? []
        : [
            `job "${job.name}": actions[${index}].plugin_name "${action.plugin}" is not a discovered plugin (discovered: ${listed})`,
          ],
    ),
  );
}

/** Validates one job, adding a problem per invalid field. */
class JobReader {
  private label: string;
  private valid = true;

  constructor(
    private readonly raw: unknown,
    index: number,
    private readonly problems: string[],
  ) {
    this.label = `job #${index + 1}`;
  }

  read(): JobDefinition | undefined {
    if (!isObject(this.raw)) {
      this.problem('must be an object');
      return undefined;
    }
    const job = this.raw;
    const name = this.name(job.name);
    for (const field of Object.keys(job).filter((key) => !JOB_FIELDS.includes(key))) {
      this.problem(`unknown field "${field}" (known: ${JOB_FIELDS.join(', ')})`);
    }
    if (job.description !== undefined && typeof job.description !== 'string') {
      this.problem('description must be a string');
    }
    const trigger = this.trigger(job.trigger);
    const jobParams = this.params(job.params, 'params');
    const actions = this.actions(job.actions, jobParams ?? {});
    const timeoutSeconds = this.timeout(job.timeoutSeconds);
    const scope = this.scope(job.scope);
    if (!this.valid || !name || !trigger || !actions) return undefined;
    return {
      name,
      ...(typeof job.description === 'string' ? { description: job.description } : {}),
      trigger,
      actions,
      timeoutSeconds,
      scope,
    };
  }

  private name(value: unknown): string | undefined {
    if (typeof value !== 'string' || !JOB_NAME.test(value)) {
      this.problem('name is required: 1-64 characters of A-Z a-z 0-9 . _ -');
      return undefined;
    }
    this.label = `job "${value}"`;
    return value;
  }

  private trigger(value: unknown): TriggerSpec | undefined {
    if (!isObject(value)) {
      this.problem(
        'trigger is required: {"type":"intervalMinutes","value":N} or {"type":"cron",...}',
      );
      return undefined;
    }
    if (value.type === 'intervalMinutes') {
      if (typeof value.value !== 'number' || !Number.isFinite(value.value) || value.value <= 0) {
        this.problem('trigger.value must be a number of minutes greater than 0');
        return undefined;
      }
      return { type: 'intervalMinutes', value: value.value };
    }
    if (value.type === 'cron') return this.cron(value);
    this.problem('trigger.type must be "intervalMinutes" or "cron"');
    return undefined;
  }

  private cron(value: Record<string, unknown>): TriggerSpec | undefined {
    const { expression, timezone = 'UTC' } = value;
    if (typeof expression !== 'string') {
      this.problem('trigger.expression is required for a cron trigger, e.g. "*/10 * * * *"');
      return undefined;
    }
    if (typeof timezone !== 'string') {
      this.problem('trigger.timezone must be an IANA time zone name, e.g. "Europe/Berlin"');
      return undefined;
    }
    try {
      new CronTime(expression, timezone);
    } catch (error) {
      const field = /timezone/i.test((error as Error).message) ? 'timezone' : 'expression';
      this.problem(`trigger.${field} is invalid: ${(error as Error).message}`);
      return undefined;
    }
    return { type: 'cron', expression, timezone };
  }

  private actions(value: unknown, jobParams: JsonObject): JobAction[] | undefined {
    if (!Array.isArray(value) || value.length === 0) {
      this.problem('actions must be a non-empty list of {"type":"run_plugin","plugin_name":...}');
      return undefined;
    }
    const actions: JobAction[] = [];
    value.forEach((action: unknown, index) => {
      const field = `actions[${index}]`;
      if (!isObject(action) || action.type !== 'run_plugin') {
        this.problem(`${field}.type must be "run_plugin"`);
        return;
      }
      if (typeof action.plugin_name !== 'string' || action.plugin_name === '') {
        this.problem(`${field}.plugin_name is required`);
        return;
      }
      const params = this.params(action.params, `${field}.params`);
      actions.push({ plugin: action.plugin_name, params: { ...jobParams, ...params } });
    });
    return actions.length === value.length ? actions : undefined;
  }

  private params(value: unknown, field: string): JsonObject | undefined {
    if (value === undefined) return undefined;
    if (!isObject(value)) {
      this.problem(`${field} must be a JSON object`);
      return undefined;
    }
    return value as JsonObject;
  }

  private timeout(value: unknown): number {
    if (value === undefined) return DEFAULT_TIMEOUT_SECONDS;
    if (typeof value !== 'number' || !(value > 0 && value <= MAX_TIMEOUT_SECONDS)) {
      this.problem(
        `timeoutSeconds must be a number of seconds greater than 0 and at most ${MAX_TIMEOUT_SECONDS}`,
      );
      return DEFAULT_TIMEOUT_SECONDS;
    }
    return value;
  }

  private scope(value: unknown): JobScope {
    if (value === undefined || value === 'node' || value === 'cluster') return value ?? 'node';
    this.problem('scope must be "node" or "cluster"');
    return 'node';
  }

  private problem(message: string): void {
    this.valid = false;
    this.problems.push(`${this.label}: ${message}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
