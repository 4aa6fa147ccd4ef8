import type { SchemaObject } from '@nestjs/swagger';
import { HEARTBEAT_STATUSES } from '../client/bridge-wire.js';

// The answer bodies of the routes. The controllers return TypeScript interfaces, which leave no
// runtime trace, so their shapes are written here once; `additionalProperties: false` makes the
// OpenAPI e2e spec fail when an answer grows a field this file does not describe.

const HEX_HASH: SchemaObject = { type: 'string', pattern: '^[0-9a-f]{64}$' };
const DATE_TIME: SchemaObject = { type: 'string', format: 'date-time' };
const COUNT: SchemaObject = { type: 'integer', minimum: 0 };
const SEQUENCE: SchemaObject = { type: 'integer', minimum: 1 };

function closed(properties: Record<string, SchemaObject>, optional: string[] = []): SchemaObject {
  return {
    type: 'object',
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    properties,
    additionalProperties: false,
  };
}

function nullable(schema: SchemaObject): SchemaObject {
  return { ...schema, nullable: true };
}

const HEALTH_STATUS: SchemaObject = {
  type: 'string',
  enum: ['ok', 'error', 'degraded', 'shutting_down'],
};
/** Terminus: one entry per indicator, `{ "status": "up" | "down", ... }`. */
const INDICATORS: SchemaObject = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'down', 'degraded'] } },
  },
};

const CHECKPOINT_KEY_FIELDS: Record<string, SchemaObject> = {
  key_name: { type: 'string' },
  key_id: { type: 'string' },
  public_key: { type: 'string' },
  verifier_key: { type: 'string' },
};

const CHAIN_HEAD = closed({ length: COUNT, head_hash: HEX_HASH });

const CHECKPOINT = closed(
  {
    origin: { type: 'string' },
    length: COUNT,
    root_hash: { ...HEX_HASH, description: 'RFC 9162 Merkle root; absent on pre-tree checkpoints' },
    head_hash: HEX_HASH,
    timestamp: DATE_TIME,
    note: { type: 'string', description: 'The C2SP signed note (tlog-checkpoint)' },
    public_key: { type: 'string', description: 'The Ed25519 checkpoint key, SPKI PEM' },
    verifier_key: { type: 'string', description: 'The signed-note verifier key string' },
  },
  ['root_hash'],
);

const RECORDED_RUN = closed({
  id: SEQUENCE,
  job: { type: 'string' },
  plugin: { type: 'string' },
  node: { type: 'string' },
  scope: { type: 'string', enum: ['cluster', 'node'] },
  trigger: { type: 'string', enum: ['schedule', 'manual'] },
  started_at: DATE_TIME,
  finished_at: nullable(DATE_TIME),
  duration_ms: nullable({ type: 'number' }),
  outcome: {
    type: 'string',
    enum: ['succeeded', 'failed', 'timed_out', 'cancelled', 'running', 'interrupted'],
  },
  error: nullable({ type: 'string' }),
  result: nullable({ type: 'object' }),
});

/** Registered as `#/components/schemas/<name>`. */
export const RESPONSE_SCHEMAS = {
  Accepted: closed({
    status: { type: 'string', enum: ['accepted'] },
    sequence: SEQUENCE,
    hash: HEX_HASH,
    previous_hash: HEX_HASH,
    received_at: DATE_TIME,
  }),
  BucketStatus: closed({
    totals: closed({ updates: COUNT, heartbeats: COUNT }),
    chain: CHAIN_HEAD,
    heartbeat_interval_seconds: { type: 'number' },
    stale_after_seconds: { type: 'number' },
    /** Every module by state, however many pages `modules` takes. */
    summary: closed({ modules: COUNT, alive: COUNT, stale: COUNT, unknown: COUNT }),
    modules: {
      type: 'array',
      items: closed({
        module: { type: 'string' },
        updates: COUNT,
        heartbeats: COUNT,
        last_update: nullable(DATE_TIME),
        last_heartbeat: nullable(DATE_TIME),
        last_heartbeat_status: nullable({ type: 'string', enum: [...HEARTBEAT_STATUSES] }),
        last_node: nullable({ type: 'string' }),
        state: { type: 'string', enum: ['alive', 'stale', 'unknown'] },
      }),
    },
    /** The `after` of the next page, or null on the last one. */
    next_after: nullable({ type: 'string' }),
  }),
  /** Terminus' answer of the probes (200 when up, 503 with the same shape when not). */
  ProbeResult: closed(
    { status: HEALTH_STATUS, info: INDICATORS, error: INDICATORS, details: INDICATORS },
    ['info', 'error'],
  ),
  CoreHealth: closed({
    status: HEALTH_STATUS,
    time: DATE_TIME,
    node_id: { type: 'string' },
    version: { type: 'string' },
    uptime_seconds: { type: 'number' },
    checks: INDICATORS,
    performance: closed({
      requests_total: COUNT,
      requests_by_route: {
        type: 'object',
        description: '"POST /core/update": { "201": 12, "409": 1 }',
        additionalProperties: { type: 'object', additionalProperties: COUNT },
      },
      latency_ms: closed({
        samples: COUNT,
        p50: { type: 'number' },
        p95: { type: 'number' },
        p99: { type: 'number' },
        window: { type: 'string' },
      }),
      requests_per_second: { type: 'number' },
      requests_per_second_window_seconds: { type: 'number' },
    }),
    security: nullable(
      closed({
        accepted: closed({ total: COUNT, updates: COUNT, heartbeats: COUNT }),
        rejected_total: COUNT,
        rejected_by_reason: { type: 'object', additionalProperties: COUNT },
        replay_attempts: COUNT,
        invalid_signatures: COUNT,
        invalid_tokens: COUNT,
        nonce_store_size: COUNT,
        last_rejection: nullable(
          closed({ at: DATE_TIME, reason: { type: 'string' }, message: { type: 'string' } }),
        ),
      }),
    ),
    chain: nullable(CHAIN_HEAD),
    heartbeats: nullable(
      closed({
        alive: COUNT,
        stale: COUNT,
        unknown: COUNT,
        stale_modules: { type: 'array', items: { type: 'string' } },
      }),
    ),
  }),
  ChainVerdict: {
    oneOf: [
      closed({ valid: { type: 'boolean', enum: [true] }, length: COUNT, head_hash: HEX_HASH }),
      closed({
        valid: { type: 'boolean', enum: [false] },
        length: COUNT,
        first_invalid_sequence: SEQUENCE,
        reason: { type: 'string', enum: ['gap', 'broken_link', 'hash_mismatch'] },
        detail: { type: 'string' },
      }),
    ],
  },
  ChainEntry: closed({
    sequence: SEQUENCE,
    timestamp: DATE_TIME,
    type: { type: 'string', enum: ['update', 'heartbeat'] },
    module: { type: 'string' },
    payload: { type: 'object', description: 'The signed payload exactly as received' },
    signature: { type: 'string' },
    previous_hash: HEX_HASH,
    hash: HEX_HASH,
  }),
  Checkpoint: CHECKPOINT,
  CheckpointKey: closed({
    ...CHECKPOINT_KEY_FIELDS,
    previous_keys: {
      type: 'array',
      items: closed(CHECKPOINT_KEY_FIELDS),
      description: 'Keys that signed earlier checkpoints and still verify them (key rotation)',
    },
  }),
  InclusionProof: closed({
    sequence: SEQUENCE,
    size: SEQUENCE,
    leaf_index: COUNT,
    leaf_hash: HEX_HASH,
    proof: { type: 'array', items: HEX_HASH },
    checkpoint: CHECKPOINT,
  }),
  ConsistencyProof: closed({
    from: SEQUENCE,
    to: SEQUENCE,
    proof: { type: 'array', items: HEX_HASH },
  }),
  JobList: closed({
    node: { type: 'string' },
    scheduling: { type: 'boolean' },
    jobs: {
      type: 'array',
      items: closed({
        name: { type: 'string' },
        description: nullable({ type: 'string' }),
        scope: { type: 'string', enum: ['cluster', 'node'] },
        trigger: { type: 'object' },
        timeout_seconds: { type: 'number' },
        plugins: { type: 'array', items: { type: 'string' } },
        running: { type: 'boolean' },
        next_run: nullable(DATE_TIME),
        last_run: nullable(RECORDED_RUN),
      }),
    },
  }),
  RunList: closed({ runs: { type: 'array', items: RECORDED_RUN } }),
  RunStarted: closed({ run_id: SEQUENCE, job: { type: 'string' }, outcome: { type: 'string' } }),
  InsightSnapshot: {
    type: 'object',
    description: "InsightFlow's data: the figures the dashboard draws",
  },
} satisfies Record<string, SchemaObject>;

export type ResponseSchemaName = keyof typeof RESPONSE_SCHEMAS;

export function schemaRef(name: ResponseSchemaName): { $ref: string } {
  return { $ref: `#/components/schemas/${name}` };
}
