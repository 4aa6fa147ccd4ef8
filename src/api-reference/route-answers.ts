import { Reflector } from '@nestjs/core';
import { ALL_REASONS, type Reason } from '../common/reasons.js';

/**
 * Reasons a route answers because of what its own handler does (a lookup that can miss, a job
 * that can be running, a read of the store), beyond those its kind already implies. On a
 * controller it applies to each of its routes, merged with the route's own. Read only by the API
 * reference.
 */
export const Answers = Reflector.createDecorator<Reason[]>();

/** A route as its decorators describe it. */
export interface RouteKind {
  /** `@Public()`: no token is asked for. */
  open: boolean;
  /** `@SignedRequest(kind)`: SPEC §4 steps 3–7 run. */
  signed: boolean;
  /** A pipe parses one of its path or query parameters, and refuses what does not parse. */
  parameters: boolean;
  /** Its `@Answers(...)`. */
  declared: readonly Reason[];
}

type Rule = (route: RouteKind) => boolean;

const everyRoute: Rule = () => true;
const tokenRoute: Rule = (route) => !route.open;
const signedRoute: Rule = (route) => route.signed;
const parameterRoute: Rule = (route) => route.parameters;
const declaredOnly: Rule = () => false;

/**
 * Which routes may answer each reason (SPEC §4). A reason added to `REASONS` must be placed here
 * before the project compiles, so the reference cannot silently omit it; `@Answers` adds a reason
 * to one route whatever its rule.
 */
const ANSWERED_BY: Record<Reason, Rule> = {
  missing_token: tokenRoute,
  invalid_token: tokenRoute,
  token_expired: tokenRoute,
  invalid_issuer: tokenRoute,
  forbidden_role: tokenRoute,
  malformed_request: signedRoute,
  payload_too_large: signedRoute,
  invalid_signature: signedRoute,
  module_mismatch: signedRoute,
  stale_timestamp: signedRoute,
  replay_detected: signedRoute,
  store_unavailable: signedRoute,
  invalid_parameter: parameterRoute,
  not_found: declaredOnly,
  unknown_job: declaredOnly,
  job_running: declaredOnly,
  shutting_down: declaredOnly,
  checkpoint_refused: declaredOnly,
  rate_limited: everyRoute,
  internal_error: everyRoute,
};

/** Every reason `route` may answer, in the order of `REASONS`. */
export function reasonsAnsweredBy(route: RouteKind): Reason[] {
  return ALL_REASONS.filter(
    (reason) => ANSWERED_BY[reason](route) || route.declared.includes(reason),
  );
}
