import type { NextFunction, Request, Response } from 'express';

/**
 * A path segment whose percent-escapes do not decode (`/provenance/entries/%`, `%C3%28`) would
 * make the router fail before any guard ran, answering neither in the SPEC body nor after the
 * token check. Such a segment is taken literally instead (its `%` escaped as `%25`), so the
 * request goes the usual way: 401 without a token, then the route's own parameter check (400) or
 * 404 for no route.
 */
export function literalMalformedEscapes(request: Request, _response: Response, next: NextFunction) {
  if (request.url.includes('%')) {
    const query = request.url.indexOf('?');
    const path = query === -1 ? request.url : request.url.slice(0, query);
    const repaired = path.split('/').map(literalIfMalformed).join('/');
    if (repaired !== path) request.url = repaired + (query === -1 ? '' : request.url.slice(query));
  }
  next();
}

function literalIfMalformed(segment: string): string {
  try {
    decodeURIComponent(segment);
    return segment;
  } catch {
    return segment.replaceAll('%', '%25');
  }
}
