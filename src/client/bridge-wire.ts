// The SPEC wire vocabulary that both sides speak. It lives with the client so that the client
// (used by plugins, the runner, the mock modules and the demo) never imports server code; the
// server's DTOs and status service take it from here.

/**
 * SPEC §2 `payload.module`: 1-64 characters of A-Z a-z 0-9 . _ - ; job and plugin names follow
 * the same rule, so each can appear in a module name, a key file name or a log line unquoted.
 */
export const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Module names of this prefix belong to the automation (`automation-<node id>`): the only ones an
 * automation token may heartbeat as, so that it can never keep a real module looking alive.
 */
export const AUTOMATION_MODULE_PREFIX = 'automation-';

/** SPEC §2 `payload.status` of a heartbeat. */
export const HEARTBEAT_STATUSES = ['alive', 'degraded', 'stopping'] as const;
export type HeartbeatStatus = (typeof HEARTBEAT_STATUSES)[number];

export type ModuleState = 'alive' | 'stale' | 'unknown';

/** One module of SPEC §6 `GET /bucket/status`. */
export interface ModuleStatus {
  module: string;
  updates: number;
  heartbeats: number;
  last_update: string | null;
  last_heartbeat: string | null;
  last_heartbeat_status: string | null;
  last_node: string | null;
  state: ModuleState;
}

/** Every module counted by state, however many there are. */
export interface ModuleSummary {
  modules: number;
  alive: number;
  stale: number;
  unknown: number;
}

/**
 * SPEC §6 `GET /bucket/status[?limit=&after=&module=]`: totals and the summary cover every module;
 * `modules` is one page of them by name (`limit`, default 100, at most 1000, after the name
 * `after`), `next_after` the `after` of the next page or null on the last one.
 */
export interface BucketStatus {
  totals: { updates: number; heartbeats: number };
  chain: { length: number; head_hash: string };
  heartbeat_interval_seconds: number;
  stale_after_seconds: number;
  summary: ModuleSummary;
  modules: ModuleStatus[];
  next_after: string | null;
}
