import { createHmac } from 'node:crypto';
import { jest } from '@jest/globals';
import jsonwebtoken from 'jsonwebtoken';
import { loadConfig } from '../config/app-config.js';
import { Rejection } from '../common/rejection.js';
import { Role } from './role.js';
import { TokenService } from './token.service.js';
import { loadVectors } from '../../test/support/vectors.js';

/** A token's `exp` in epoch milliseconds, read straight from its claims segment. */
const expiryOf = (token: string): number =>
  (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp: number }).exp *
  1000;

describe('TokenService', () => {
  const vectors = loadVectors();
  const service = new TokenService(
    { jwtSecret: vectors.jwt.secret },
    loadConfig({ JWT_ISSUER: vectors.jwt.issuer }),
  );

  it('accepts the Python-made vector token (fractional exp) with its roles and subject', () => {
    expect(service.verify(vectors.jwt.token)).toEqual({
      roles: [Role.Module],
      subject: 'module-a',
      expiresAtMs: expiryOf(vectors.jwt.token),
    });
  });

  it('refuses the vector token when one byte of its signature changes', () => {
    const token = vectors.jwt.token;
    const tampered = token.slice(0, -2) + (token.endsWith('xo') ? 'xp' : 'xo');
    expect(() => service.verify(tampered)).toThrow(Rejection);
  });

  it('verifies the tokens it mints, subject included', () => {
    const token = service.mint({
      roles: [Role.Automation, Role.Admin],
      subject: 'node-001',
      ttlSeconds: 60,
    });
    expect(service.verify(token)).toEqual({
      roles: [Role.Automation, Role.Admin],
      subject: 'node-001',
      expiresAtMs: expiryOf(token),
    });
  });

  it('refuses a token signed for another issuer with invalid_issuer', () => {
    const token = jsonwebtoken.sign(
      { iss: 'elsewhere', exp: Date.now() / 1000 + 60, roles: ['module'] },
      vectors.jwt.secret,
    );
    expect(() => service.verify(token)).toThrow(
      expect.objectContaining({ reason: 'invalid_issuer' }),
    );
  });

  describe('rotation: JWT_VERIFY_ONLY_SECRETS', () => {
    const config = (verifyOnly: string) =>
      loadConfig({ JWT_ISSUER: vectors.jwt.issuer, JWT_VERIFY_ONLY_SECRETS: verifyOnly });
    const oldSigner = new TokenService({ jwtSecret: 'old-secret' }, config(''));
    const rotated = new TokenService({ jwtSecret: 'new-secret' }, config('older,old-secret'));

    it('verifies tokens of the current and of each verify-only secret, and signs with the current', () => {
      const oldToken = oldSigner.mint({
        roles: [Role.Module],
        subject: 'module-a',
        ttlSeconds: 60,
      });
      expect(rotated.verify(oldToken)).toEqual({
        roles: [Role.Module],
        subject: 'module-a',
        expiresAtMs: expiryOf(oldToken),
      });
      const newToken = rotated.mint({ roles: [Role.Admin], ttlSeconds: 60 });
      expect(rotated.verify(newToken).roles).toEqual([Role.Admin]);
      expect(() => oldSigner.verify(newToken)).toThrow(
        expect.objectContaining({ reason: 'invalid_token' }),
      );
    });

    it('refuses a token of a secret once it is no longer listed', () => {
      const oldToken = oldSigner.mint({ roles: [Role.Module], ttlSeconds: 60 });
      const removed = new TokenService({ jwtSecret: 'new-secret' }, config('older'));
      expect(() => removed.verify(oldToken)).toThrow(
        expect.objectContaining({ reason: 'invalid_token' }),
      );
    });

    it('keeps the verdict of a verify-only secret on the claims (issuer)', () => {
      const foreign = new TokenService(
        { jwtSecret: 'old-secret' },
        loadConfig({ JWT_ISSUER: 'elsewhere' }),
      );
      expect(() => rotated.verify(foreign.mint({ roles: [Role.Module], ttlSeconds: 60 }))).toThrow(
        expect.objectContaining({ reason: 'invalid_issuer' }),
      );
    });
  });

  describe('remembering verified tokens', () => {
    afterEach(() => jest.useRealTimers());

    it('refuses a remembered token once it expires, as jsonwebtoken would', () => {
      jest.useFakeTimers({ now: new Date('2026-11-26T12:00:00.000Z') });
      const token = service.mint({ roles: [Role.Module], subject: 'module-a', ttlSeconds: 30 });
      expect(service.verify(token).subject).toBe('module-a');
      jest.setSystemTime(new Date('2026-11-26T12:00:29.999Z'));
      expect(service.verify(token).subject).toBe('module-a');
      jest.setSystemTime(new Date('2026-11-26T12:00:30.000Z'));
      expect(() => service.verify(token)).toThrow(
        expect.objectContaining({ reason: 'token_expired' }),
      );
    });

    it('still refuses a tampered copy of a remembered token', () => {
      const token = service.mint({ roles: [Role.Admin], ttlSeconds: 60 });
      service.verify(token);
      const [header, payload, signature] = token.split('.');
      const elevated = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'x' }),
      ).toString('base64url');
      expect(() => service.verify(`${header}.${elevated}.${signature}`)).toThrow(
        expect.objectContaining({ reason: 'invalid_token' }),
      );
    });

    it('answers a token it already verified from memory', () => {
      const token = service.mint({ roles: [Role.Module], ttlSeconds: 60 });
      const principal = service.verify(token);
      expect(service.verify(token)).toBe(principal);
    });
  });

  describe('hostile tokens (RFC 7515, RFC 7519)', () => {
    const secret = vectors.jwt.secret;
    const now = () => Math.floor(Date.now() / 1000);
    const claims = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({ iss: vectors.jwt.issuer, exp: now() + 60, roles: ['module'], ...extra });
    /** A correctly signed HS256 token over exactly these header and claims texts. */
    const signedToken = (claimsText: string, header: Record<string, unknown> = {}) => {
      const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...header }));
      const input = `${head.toString('base64url')}.${Buffer.from(claimsText).toString('base64url')}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    const refusedAs = (token: string, reason = 'invalid_token') =>
      expect(() => service.verify(token)).toThrow(expect.objectContaining({ reason }));

    it('accepts the hand-made control token', () => {
      expect(service.verify(signedToken(claims())).roles).toEqual([Role.Module]);
    });

    it('refuses a header with critical extensions (crit)', () => {
      refusedAs(signedToken(claims(), { crit: ['exp'] }));
      refusedAs(signedToken(claims(), { crit: ['urn:example:unknown'], 'urn:example:unknown': 1 }));
    });

    it('refuses claims that are not a JSON object as invalid_token, not invalid_issuer', () => {
      for (const text of ['[1,2]', '"module"', '42', 'null', 'not json'])
        refusedAs(signedToken(text));
    });

    it('refuses a non-numeric or non-finite iat', () => {
      refusedAs(signedToken(claims({ iat: 'yesterday' })));
      refusedAs(signedToken(claims({ iat: null })));
      refusedAs(signedToken(claims().replace(/}$/, ',"iat":1e400}')));
    });

    it('refuses a non-finite exp (1e400 parses as Infinity)', () => {
      refusedAs(signedToken(claims().replace(/"exp":\d+/, '"exp":1e400')));
    });

    it('refuses a lifetime (exp - iat) over JWT_MAX_LIFETIME_SECONDS, and an absurd exp', () => {
      const max = loadConfig({}).jwtMaxLifetimeSeconds;
      const issued = now();
      expect(service.verify(signedToken(claims({ iat: issued, exp: issued + max }))).roles).toEqual(
        [Role.Module],
      );
      refusedAs(signedToken(claims({ iat: issued, exp: issued + max + 1 })));
      // Without iat the lifetime is unknown (the vector token runs to 2100); only absurd is refused.
      expect(service.verify(signedToken(claims({ exp: now() + max + 60 }))).roles).toHaveLength(1);
      refusedAs(signedToken(claims({ exp: 253402300799 }))); // 9999-12-31
    });

    it('checks aud when JWT_AUDIENCE is set, and mints it', () => {
      const strict = new TokenService(
        { jwtSecret: secret },
        loadConfig({ JWT_ISSUER: vectors.jwt.issuer, JWT_AUDIENCE: 'bridge.example' }),
      );
      expect(() => strict.verify(signedToken(claims()))).toThrow(
        expect.objectContaining({ reason: 'invalid_token' }),
      );
      expect(() => strict.verify(signedToken(claims({ aud: 'elsewhere' })))).toThrow(
        expect.objectContaining({ reason: 'invalid_token' }),
      );
      expect(strict.verify(signedToken(claims({ aud: 'bridge.example' }))).roles).toEqual([
        Role.Module,
      ]);
      const minted = strict.mint({ roles: [Role.Admin], ttlSeconds: 60 });
      expect(jsonwebtoken.decode(minted)).toMatchObject({ aud: 'bridge.example' });
      expect(strict.verify(minted).roles).toEqual([Role.Admin]);
    });
  });
});
