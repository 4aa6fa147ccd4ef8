import { readFileSync } from 'node:fs';
import { CronTime } from 'cron';
import { z } from 'zod';
import { NAME_PATTERN } from '../../client/bridge-wire.js';
import type { JsonObject } from '../../common/canonical-json.js';
import { ProblemsError } from '../../common/problems.error.js';

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

// The format of automation.json. Each message is the tail of a problem: the problem reads
// `<job>: <field path> <message>`, so an operator sees which job and which field to fix.
const NAME_RULE = 'is required: 1-64 characters of A-Z a-z 0-9 . _ -';
const MINUTES_RULE = 'must be a number of minutes greater than 0';
const TIMEOUT_RULE = `must be a number of seconds greater than 0 and at most ${MAX_TIMEOUT_SECONDS}`;
const ACTIONS_RULE = 'must be a non-empty list of {"type":"run_plugin","plugin_name":...}';

const params = z.custom<JsonObject>(isObject, { error: 'must be a JSON object' }).optional();

const intervalTrigger = z.object({
  type: z.literal('intervalMinutes'),
  value: z.number({ error: MINUTES_RULE }).positive({ error: MINUTES_RULE }),
});

const cronTrigger = z
  .object({
    type: z.literal('cron'),
    expression: z.string({
      error: 'is required for a cron trigger, e.g. "*/10 * * * *"',
    }),
    timezone: z
      .string({ error: 'must be an IANA time zone name, e.g. "Europe/Berlin"' })
      .default('UTC'),
  })
  .superRefine(({ expression, timezone }, context) => {
    try {
      new CronTime(expression, timezone);
    } catch (error) {
      const { message } = error as Error;
      const field = /timezone/i.test(message) ? 'timezone' : 'expression';
      context.addIssue({ code: 'custom', path: [field], message: `is invalid: ${message}` });
    }
  });

// The type is checked first, so a wrong one gets its own message rather than a union's.
const trigger = z
  .looseObject(
    {
      type: z.enum(['intervalMinutes', 'cron'], {
        error: 'must be "intervalMinutes" or "cron"',
      }),
    },
    { error: 'is required: {"type":"intervalMinutes","value":N} or {"type":"cron",...}' },
  )
  .pipe(z.discriminatedUnion('type', [intervalTrigger, cronTrigger]));

const action = z.object(
  {
    type: z.literal('run_plugin', { error: 'must be "run_plugin"' }),
    plugin_name: z.string({ error: 'is required' }).min(1, { error: 'is required' }),
    params,
  },
  { error: 'must be {"type":"run_plugin","plugin_name":...}' },
);

/** One job of automation.json. */
export const jobSchema = z
  .strictObject(
    {
      name: z.string({ error: NAME_RULE }).regex(NAME_PATTERN, { error: NAME_RULE }),
      description: z.string({ error: 'must be a string' }).optional(),
      trigger,
      actions: z.array(action, { error: ACTIONS_RULE }).min(1, { error: ACTIONS_RULE }),
      timeoutSeconds: z
        .number({ error: TIMEOUT_RULE })
        .positive({ error: TIMEOUT_RULE })
        .max(MAX_TIMEOUT_SECONDS, { error: TIMEOUT_RULE })
        .default(DEFAULT_TIMEOUT_SECONDS),
      /** Given to every action, which may override them key by key. */
      params,
      /** `node`: every replica runs it; `cluster`: one replica per tick. */
      scope: z.enum(['node', 'cluster'], { error: 'must be "node" or "cluster"' }).default('node'),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object' : undefined) },
  )
  .transform((job): JobDefinition => ({
    name: job.name,
    ...(job.description !== undefined ? { description: job.description } : {}),
    trigger: job.trigger,
    actions: job.actions.map((entry) => ({
      plugin: entry.plugin_name,
      params: { ...job.params, ...entry.params },
    })),
    timeoutSeconds: job.timeoutSeconds,
    scope: job.scope,
  }));

const JOB_FIELDS = Object.keys(jobSchema.in.shape);

/** Every problem of a job file, so an operator fixes them in one pass. */
export class AutomationConfigError extends ProblemsError {
  override name = 'AutomationConfigError';

  constructor(
    readonly source: string,
    problems: string[],
  ) {
    super(`Invalid automation config ${source}`, problems);
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
    const parsed = jobSchema.safeParse(entry);
    if (!parsed.success) {
      problems.push(...problemsOf(entry, index, parsed.error.issues));
      return;
    }
    const job = parsed.data;
    if (seen.has(job.name)) problems.push(`job "${job.name}": name is used by more than one job`);
    seen.add(job.name);
    jobs.push(job);
  });
  return { jobs, problems };
}

function problemsOf(entry: unknown, index: number, issues: z.core.$ZodIssue[]): string[] {
  const name = isObject(entry) ? entry.name : undefined;
  const label =
    typeof name === 'string' && NAME_PATTERN.test(name) ? `job "${name}"` : `job #${index + 1}`;
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map(
          (key) => `${label}: unknown field "${key}" (known: ${JOB_FIELDS.join(', ')})`,
        )
      : [`${label}: ${[fieldPath(issue.path), issue.message].filter(Boolean).join(' ')}`],
  );
}

/** `["actions", 0, "params"]` → `actions[0].params`, as the file's author would write it. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
