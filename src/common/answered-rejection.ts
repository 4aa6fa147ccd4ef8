import type { Response } from 'express';

/**
 * The rejection reason the error filter answered, kept on the response so whatever observes the
 * finished response (request metrics, `flow.log`) can tell why it was refused.
 */
export function noteAnsweredRejection(response: Response, reason: string): void {
  response.locals.rejectionReason = reason;
}

export function answeredRejectionOf(response: Response): string | undefined {
  const reason: unknown = response.locals.rejectionReason;
  return typeof reason === 'string' ? reason : undefined;
}
