import { jest } from '@jest/globals';
import jsonwebtoken from 'jsonwebtoken';
import { loadConfig } from '../config/app-config.js';
import { Rejection } from '../common/rejection.js';
import { Role } from './role.js';
import { TokenService } from './token.service.js';
import { loadVectors } from '../../test/support/vectors.js';

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
});
