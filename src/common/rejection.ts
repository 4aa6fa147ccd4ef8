/** SPEC §4: every reason a request is refused, with the HTTP status it answers. */
export const REJECTION_STATUS = {
  missing_token: 401,
  invalid_token: 401,
  token_expired: 401,
  invalid_issuer: 401,
  forbidden_role: 403,
  malformed_request: 400,
  payload_too_large: 413,
  invalid_signature: 401,
  module_mismatch: 403,
  stale_timestamp: 401,
  replay_detected: 409,
  store_unavailable: 503,
} as const;

export type RejectionReason = keyof typeof REJECTION_STATUS;

export const REJECTION_REASONS = Object.keys(REJECTION_STATUS) as RejectionReason[];

/**
 * A refusal the client is told about in the SPEC §4 body. The message is for humans and never
 * carries secrets, keys or internals.
 */
export class Rejection extends Error {
  readonly status: number;

  constructor(
    readonly reason: RejectionReason,
    message: string,
    /** The module the request claimed, when known, for the security log. */
    readonly module?: string,
  ) {
    super(message);
    this.name = 'Rejection';
    this.status = REJECTION_STATUS[reason];
  }
}

export interface RejectionBody {
  status: 'rejected';
  reason: string;
  message: string;
}
