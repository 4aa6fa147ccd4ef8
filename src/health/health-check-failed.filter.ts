import {
  Catch,
  ServiceUnavailableException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { CoreHealthFailedError } from './core-health.service.js';

/**
 * A failed health check answers 503 with the full check result (Terminus throws it as a 503) or
 * the full report, so the body names the failing indicator (the global filter would reduce it to a
 * generic message).
 */
@Catch(ServiceUnavailableException, CoreHealthFailedError)
export class HealthCheckFailedFilter implements ExceptionFilter {
  catch(error: ServiceUnavailableException | CoreHealthFailedError, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(503)
      .set('Cache-Control', 'no-cache, no-store, must-revalidate')
      .json(error instanceof CoreHealthFailedError ? error.report : error.getResponse());
  }
}
