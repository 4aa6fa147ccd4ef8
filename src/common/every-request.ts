import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { HttpMetricsMiddleware } from '../health/http-metrics.middleware.js';
import { AccessLog } from './access-log.js';
import { closeAfterEarlyAnswer } from './bounded-body.js';
import { ConnectionDrain } from './connection-drain.js';
import { literalMalformedEscapes } from './path-escapes.js';
import { securityHeaders } from './security-headers.js';

/**
 * Installs the middleware that every request passes, in this order, as one Express layer ahead
 * of the router. Nest's `consumer.apply(...).forRoutes('*')` would mount each as its own
 * `/{*path}` route, matched by a regular expression and tracked in a set per request, which cost
 * more per update than the middleware themselves (BENCHMARKS.md, stop 11). Call before `listen`,
 * so that the layer precedes the routes Nest registers at init.
 */
export function useOnEveryRequest(app: INestApplication): void {
  const drain = app.get(ConnectionDrain);
  const accessLog = app.get(AccessLog);
  const metrics = app.get(HttpMetricsMiddleware);
  app.use(
    inOneLayer([
      closeAfterEarlyAnswer,
      securityHeaders,
      literalMalformedEscapes,
      (request, response, next) => drain.use(request, response, next),
      (request, response, next) => accessLog.use(request, response, next),
      (request, response, next) => metrics.use(request, response, next),
    ]),
  );
}

/** Runs `handlers` one after the other as Express would, stopping at the first error. */
function inOneLayer(handlers: RequestHandler[]): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    let index = 0;
    const step = (error?: unknown): void => {
      if (error !== undefined || index === handlers.length) return next(error);
      const handler = handlers[index++];
      try {
        void handler(request, response, step);
      } catch (thrown) {
        next(thrown);
      }
    };
    step();
  };
}
