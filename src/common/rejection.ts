import { REASONS, type Reason } from './reasons.js';

/**
 * A refusal the client is told about in the SPEC §4 body: domain code throws it (or one of the named
 * subclasses below) with a reason code, and the global filter answers it. The message is for humans
 * and never carries secrets, keys or internals.
 */
export class Rejection extends Error {
  constructor(
    readonly reason: Reason,
    message: string,
    /** The module the request claimed, when known, for the security log. */
    readonly module?: string,
  ) {
    super(message);
    this.name = 'Rejection';
  }

  get status(): number {
    return REASONS[this.reason].status;
  }
}

/** A resource asked for by its key does not exist. */
export class NotFoundError extends Rejection {
  constructor(message: string) {
    super('not_found', message);
    this.name = 'NotFoundError';
  }
}

export interface RejectionBody {
  status: 'rejected';
  reason: string;
  message: string;
}
