/**
 * Every reason the service can answer, with its HTTP status and whether it is a security rejection
 * (SPEC §4: counted cluster-wide and logged to the security log). The error filter, docs/security.md's
 * table and the tests read this one table, so a new reason cannot be answered without appearing in
 * all three.
 */
export const REASONS = {
  missing_token: { status: 401, security: true, description: 'no bearer token' },
  invalid_token: {
    status: 401,
    security: true,
    description: 'the token is malformed or badly signed',
  },
  token_expired: { status: 401, security: true, description: 'the token has expired' },
  invalid_issuer: { status: 401, security: true, description: 'the token names another issuer' },
  forbidden_role: {
    status: 403,
    security: true,
    description: 'no role of the token may use this endpoint',
  },
  malformed_request: {
    status: 400,
    security: true,
    description: 'the signed body is not JSON or not of the required shape',
  },
  payload_too_large: {
    status: 413,
    security: true,
    description: 'the body exceeds BODY_LIMIT_BYTES',
  },
  invalid_signature: {
    status: 401,
    security: true,
    description: 'the signature does not verify, or no key for the module',
  },
  module_mismatch: {
    status: 403,
    security: true,
    description: "the payload's module is not the token's subject",
  },
  stale_timestamp: {
    status: 401,
    security: true,
    description: 'the payload timestamp is outside MAX_CLOCK_SKEW_SECONDS',
  },
  replay_detected: { status: 409, security: true, description: 'the nonce was already used' },
  rate_limited: {
    status: 429,
    security: true,
    description: 'too many requests from this address or token; retry after Retry-After seconds',
  },
  store_unavailable: {
    status: 503,
    security: true,
    description: 'the database cannot take the request now; retry it',
  },
  invalid_parameter: {
    status: 400,
    security: false,
    description: 'a query or path parameter is invalid',
  },
  not_found: { status: 404, security: false, description: 'no such route or resource' },
  unknown_job: { status: 404, security: false, description: 'no automation job of that name' },
  job_running: {
    status: 409,
    security: false,
    description: 'the automation job is already running',
  },
  shutting_down: {
    status: 503,
    security: false,
    description: 'this replica is shutting down; another can take the request',
  },
  internal_error: {
    status: 500,
    security: false,
    description: 'an unexpected error; the body carries a request_id found in the log',
  },
  checkpoint_refused: {
    status: 409,
    security: false,
    description:
      'the head cannot be signed (empty chain, or it does not extend the last checkpoint)',
  },
} as const satisfies Record<string, { status: number; security: boolean; description: string }>;

export type Reason = keyof typeof REASONS;

export const ALL_REASONS = Object.keys(REASONS) as Reason[];

/** The reasons SPEC §4 counts and logs as security rejections. */
export const SECURITY_REASONS = ALL_REASONS.filter((reason) => REASONS[reason].security);
