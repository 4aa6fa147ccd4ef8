import {
  Catch,
  ServiceUnavailableException,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';

/**
 * A failed health check answers 503 with the full check result, so the body names the failing
 * indicator (the global filter would reduce it to a generic message).
 */
@Catch(ServiceUnavailableException)
export class HealthCheckFailedFilter implements ExceptionFilter {
  catch(error: ServiceUnavailableException, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(error.getStatus())
      .set('Cache-Control', 'no-cache, no-store, must-revalidate')
      .json(error.getResponse());
  }
}
