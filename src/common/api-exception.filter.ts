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
import { Rejection, type RejectionBody } from './rejection.js';
import { RejectionRecorder } from './rejection-recorder.js';

/**
 * Maps every error to a JSON answer. Rejections get the SPEC §4 body and are recorded; framework
 * HTTP errors (404, 405) keep their status; anything else is a generic 500 with a request id, and
 * its stack trace goes to the log only.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  constructor(private readonly recorder: RejectionRecorder) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    if (response.headersSent) {
      this.logger.error(`error after the response started: ${(error as Error).message}`);
      response.end();
      return;
    }

    if (error instanceof Rejection) {
      this.recorder.record(error, {
        method: request.method,
        path: request.path,
        clientAddress: request.ip,
      });
      noteAnsweredRejection(response, error.reason);
      response.status(error.status).json(rejectionBody(error.reason, error.message));
      return;
    }
    if (error instanceof HttpException) {
      const reason = error.getStatus() === 404 ? 'not_found' : 'http_error';
      response.status(error.getStatus()).json(rejectionBody(reason, error.message));
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
}

function rejectionBody(reason: string, message: string): RejectionBody {
  return { status: 'rejected', reason, message };
}
