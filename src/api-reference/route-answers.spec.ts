import { reasonsAnsweredBy, type RouteKind } from './route-answers.js';

const readRoute: RouteKind = { open: false, signed: false, parameters: false, declared: [] };

describe('reasonsAnsweredBy', () => {
  it('gives a token route the token and role reasons, and nothing of the signed path', () => {
    expect(reasonsAnsweredBy(readRoute)).toEqual([
      'missing_token',
      'invalid_token',
      'token_expired',
      'invalid_issuer',
      'forbidden_role',
      'rate_limited',
      'internal_error',
    ]);
  });

  it('gives an open route only what any route can answer: the address limit and a bug', () => {
    expect(reasonsAnsweredBy({ ...readRoute, open: true })).toEqual([
      'rate_limited',
      'internal_error',
    ]);
  });

  it('gives a signed route every check of the write path', () => {
    expect(reasonsAnsweredBy({ ...readRoute, signed: true })).toEqual(
      expect.arrayContaining([
        'malformed_request',
        'payload_too_large',
        'invalid_signature',
        'module_mismatch',
        'stale_timestamp',
        'replay_detected',
        'store_unavailable',
      ]),
    );
  });

  it('adds invalid_parameter where a pipe parses a parameter, and what a route declares', () => {
    const route = { ...readRoute, open: true, parameters: true, declared: ['not_found'] as const };
    expect(reasonsAnsweredBy(route)).toEqual([
      'rate_limited',
      'invalid_parameter',
      'not_found',
      'internal_error',
    ]);
  });
});
