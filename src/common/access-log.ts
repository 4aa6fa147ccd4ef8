import { Inject, Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { HttpLogger } from 'pino-http';
import { SignedRoutes } from '../security/signed-routes.js';
import { HTTP_LOGGER } from './logging.js';

/**
 * pino-http's access log, except on the signed routes: a success there logs only at debug, a
 * rejection is logged by the security audit and a failure by the error filter, and on the
 * ingestion routes the access log cost about 30 µs per update even when its lines were not written.
 */
@Injectable()
export class AccessLog {
  constructor(
    @Inject(HTTP_LOGGER) private readonly httpLogger: HttpLogger,
    private readonly signedRoutes: SignedRoutes,
  ) {}

  use(request: Request, response: Response, next: NextFunction): void {
    if (this.signedRoutes.kindOf(request.method, request.path) !== undefined) return next();
    this.httpLogger(request, response, next);
  }
}
