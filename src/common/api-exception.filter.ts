import { randomUUID } from 'node:crypto';
import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { noteAnsweredRejection } from './answered-rejection.js';
import { boundedText } from './bounded-text.js';
import { OutcomeRecorder } from './outcome-recorder.js';
import { REASONS } from './reasons.js';
import { Rejection, type RejectionBody } from './rejection.js';
import { RejectionRecorder } from './rejection-recorder.js';
import { isStoreUnavailable } from './store-unavailable.js';

/**
 * Maps every error to a JSON answer. A rejection gets the SPEC §4 body with the status its reason has
 * in `REASONS`; the security ones are also logged and counted. Nest's router 404 becomes `not_found`; our code
 * throws no `HttpException`, so any other one is a bug and is answered like every unknown error: a
 * generic 500 with a request id, its stack trace in the log only.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(
    private readonly recorder: RejectionRecorder,
    private readonly outcomes: OutcomeRecorder,
  ) {}

  catch(thrown: unknown, host: ArgumentsHost): void {
    const error = this.asStoreUnavailable(thrown) ?? thrown;
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    if (response.headersSent) {
      this.logger.error(`error after the response started: ${(error as Error).message}`);
      response.end();
      return;
    }
    // Routes that answer text (notes, receipts, tiles) set their type up front; an error is JSON.
    response.type('json');
    // Answered before its body was read (a 10 GB Content-Length, say): the rest is not read but
    // the connection closed after this answer (see closeAfterEarlyAnswer).
    if (!request.complete) response.setHeader('Connection', 'close');

    if (error instanceof Rejection) {
      const { status, security } = REASONS[error.reason];
      if (security) {
        this.recorder.record(error, {
          method: request.method,
          path: request.path,
          clientAddress: request.ip,
        });
        this.outcomes.rejected(error.reason);
        noteAnsweredRejection(response, error.reason);
      }
      response.status(status).json(rejectionBody(error.reason, error.message));
      return;
    }
    if (error instanceof HttpException && error.getStatus() === 404) {
      response.status(404).json(rejectionBody('not_found', error.message));
      return;
    }
    const requestId = randomUUID();
    this.logger.error({ msg: 'unhandled error', requestId, err: error });
    response.status(500).json({
      status: 'error',
      reason: 'internal_error',
      message: 'Internal error',
      request_id: requestId,
    });
  }

  /** Any route that meets an unreachable database answers as the signed routes do (SPEC §4 step 8). */
  private asStoreUnavailable(error: unknown): Rejection | undefined {
    if (error instanceof Rejection || !isStoreUnavailable(error)) return undefined;
    this.logger.warn(`database unreachable: ${(error as Error).message}`);
    return new Rejection('store_unavailable', 'The store is unavailable; retry the request later');
  }
}

/** Messages may quote what the client sent (Nest's 404 names the path): never unbounded. */
function rejectionBody(reason: string, message: string): RejectionBody {
  return { status: 'rejected', reason, message: boundedText(message) };
}
