import type { NextFunction, Request, Response } from 'express';

/**
 * Headers on every answer: `nosniff`, so no browser runs an answer as another type than it says;
 * and `no-store` on answers to requests that carry a token, so no shared or browser cache keeps
 * what only a token holder may read. Public static assets (the dashboard's page and bundles) carry
 * no token and keep the caching their route sets; a route may still set its own `Cache-Control`.
 */
export function securityHeaders(request: Request, response: Response, next: NextFunction): void {
  response.setHeader('X-Content-Type-Options', 'nosniff');
  if (request.headers.authorization !== undefined) response.setHeader('Cache-Control', 'no-store');
  next();
}
