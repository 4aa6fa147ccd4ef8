import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService, type JwtVerifyOptions } from '@nestjs/jwt';
import jsonwebtoken from 'jsonwebtoken';
import { LRUCache } from 'lru-cache';
import { Rejection } from '../common/rejection.js';
import { isRole, type Principal, type Role } from './role.js';
import { SECURITY_SECRETS, type SecuritySecrets } from './security-secrets.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';

/** Only HS256 is ever accepted: pinning the algorithm rules out `none` and key confusion. */
export const TOKEN_ALGORITHM = 'HS256';
/** How far in the future an `iat` may lie before the token is refused as forged or mis-clocked. */
const MAX_FUTURE_IAT_SECONDS = 60;
/** An `exp` further ahead than this (100 years) is a forgery or a bug, whatever the token says. */
const ABSURD_EXP_SECONDS = 100 * 365 * 86400;
/** Verified tokens remembered; a module reuses one token for many requests. */
const VERIFIED_TOKENS_KEPT = 10_000;

export interface TokenRequest {
  roles: Role[];
  subject?: string;
  ttlSeconds: number;
}

/** Verifies bearer tokens (SPEC §3) and mints them for the CLIs and the automation runner. */
@Injectable()
export class TokenService {
  /** Signs, and verifies first: `JWT_SECRET`. */
  private readonly jwt: JwtService;
  /** Verify only, tried in order after `jwt` refused a signature: `JWT_VERIFY_ONLY_SECRETS`. */
  private readonly verifyOnlyJwts: JwtService[];
  /**
   * Tokens that passed every check, by their exact text. The HMAC covers the whole token, so the
   * same text always carries the same claims; of the checks, only expiry can change its verdict
   * later, and it is checked again on every use. Checking the signature and claims once per token
   * instead of once per request cut about a tenth of the service's CPU per ingested update.
   * Each entry lives until the token's `exp`, on the wall clock (`Date.now`) that jsonwebtoken
   * judges by, read on every lookup (`ttlResolution: 0`) rather than cached by a timer.
   */
  private readonly verified = new LRUCache<string, Principal>({
    max: VERIFIED_TOKENS_KEPT,
    perf: { now: () => Date.now() },
    ttlResolution: 0,
  });

  constructor(
    @Inject(SECURITY_SECRETS) secrets: SecuritySecrets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.jwt = jwtServiceFor(secrets.jwtSecret);
    this.verifyOnlyJwts = config.jwtVerifyOnlySecrets
      .filter((secret) => secret !== secrets.jwtSecret)
      .map(jwtServiceFor);
  }

  verify(token: string): Principal {
    const known = this.verified.get(token);
    if (known) return known;

    const claims = this.verifiedClaims(token);
    const principal = this.principalFrom(claims);
    // jsonwebtoken refuses a token once the clock reaches `exp`; lru-cache drops an entry once
    // more than `ttl` ms have passed, hence the 1 ms. A token closer to expiry is not kept, as
    // a ttl of 0 would mean "never expires".
    const ttl = (claims.exp as number) * 1000 - Date.now() - 1;
    if (ttl > 0) this.verified.set(token, principal, { ttl });
    return principal;
  }

  /**
   * The one place a token's signature and registered claims are checked (algorithm, issuer,
   * audience, expiry, not-before), after its header and claims were found to be JSON objects with
   * no critical extension. A signature `JWT_SECRET` refuses is tried with each verify-only secret;
   * jsonwebtoken checks the signature before any claim, so a refusal for another reason is final.
   * The verified-token cache needs no flush for rotation: the secrets are read at start only, and
   * the cache lives in memory, so a restart without a secret forgets what it verified.
   */
  private verifiedClaims(token: string): Record<string, unknown> {
    checkSegments(token);
    const options: JwtVerifyOptions = {
      algorithms: [TOKEN_ALGORITHM],
      issuer: this.config.jwtIssuer,
      ...(this.config.jwtAudience ? { audience: this.config.jwtAudience } : {}),
    };
    let refusal: unknown;
    for (const jwt of [this.jwt, ...this.verifyOnlyJwts]) {
      try {
        return jwt.verify(token, options);
      } catch (error) {
        refusal = error;
        if (!isSignatureRefusal(error)) break;
      }
    }
    throw this.rejectionFor(refusal);
  }

  mint(request: TokenRequest): string {
    const claims: Record<string, unknown> = { roles: request.roles };
    if (request.subject) claims.sub = request.subject;
    return this.jwt.sign(claims, {
      algorithm: TOKEN_ALGORITHM,
      issuer: this.config.jwtIssuer,
      expiresIn: request.ttlSeconds,
      ...(this.config.jwtAudience ? { audience: this.config.jwtAudience } : {}),
    });
  }

  private principalFrom(claims: Record<string, unknown>): Principal {
    const { exp, iat } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp))
      throw new Rejection('invalid_token', 'Token has no finite expiry (exp)');
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat)))
      throw new Rejection('invalid_token', 'Token issue time (iat) is not a NumericDate');
    const now = Date.now() / 1000;
    if (iat !== undefined && iat > now + MAX_FUTURE_IAT_SECONDS) {
      throw new Rejection('invalid_token', 'Token is issued in the future (iat)');
    }
    // Lifetime is known from iat. Without one (PyJWT's default, and the SPEC's vector token, valid
    // until 2100) only an absurd exp is refused.
    const lifetime = iat === undefined ? undefined : exp - iat;
    if (lifetime !== undefined && lifetime > this.config.jwtMaxLifetimeSeconds) {
      throw new Rejection(
        'invalid_token',
        `Token lives longer than JWT_MAX_LIFETIME_SECONDS (${this.config.jwtMaxLifetimeSeconds} s) allows`,
      );
    }
    if (exp > now + ABSURD_EXP_SECONDS)
      throw new Rejection('invalid_token', 'Token expiry (exp) is absurdly far in the future');
    const roles = claims.roles;
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every(isRole)) {
      throw new Rejection(
        'invalid_token',
        'Token roles must be a non-empty array of module, automation, admin',
      );
    }
    if (claims.sub !== undefined && typeof claims.sub !== 'string') {
      throw new Rejection('invalid_token', 'Token subject (sub) must be a string');
    }
    // Shared by every request that presents the same token, hence read-only (by type: frozen
    // objects sent V8 down slow paths that cost about 80 µs per request).
    return { roles, subject: claims.sub, expiresAtMs: exp * 1000 };
  }

  private rejectionFor(error: unknown): Rejection {
    if (error instanceof jsonwebtoken.TokenExpiredError)
      return new Rejection('token_expired', 'Token has expired');
    if (error instanceof jsonwebtoken.NotBeforeError)
      return new Rejection('invalid_token', 'Token is not valid yet (nbf)');
    if (
      error instanceof jsonwebtoken.JsonWebTokenError &&
      error.message.startsWith('jwt issuer invalid')
    ) {
      return new Rejection('invalid_issuer', 'Token issuer is not accepted');
    }
    if (
      error instanceof jsonwebtoken.JsonWebTokenError &&
      error.message.startsWith('jwt audience invalid')
    ) {
      return new Rejection('invalid_token', 'Token audience (aud) is not accepted');
    }
    return new Rejection('invalid_token', 'Token is malformed or its signature does not verify');
  }
}

/**
 * A service that signs and verifies with `secret`. A ready KeyObject: given a string, jsonwebtoken
 * first tries (and fails) to parse it as a PEM public key on every call, which cost about a fifth
 * of the service's CPU under load.
 */
function jwtServiceFor(secret: string): JwtService {
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return new JwtService({ secretOrKeyProvider: () => key });
}

/** jsonwebtoken's refusal of the signature itself, the one another secret may overturn. */
function isSignatureRefusal(error: unknown): boolean {
  return error instanceof jsonwebtoken.JsonWebTokenError && error.message === 'invalid signature';
}

/**
 * The checks jsonwebtoken skips: a header naming critical extensions (`crit`, RFC 7515 §4.1.11),
 * none of which this service implements, must be refused; and claims that are not a JSON object
 * (an array, a string) must be refused as a malformed token, not judged by their missing issuer.
 */
function checkSegments(token: string): void {
  const [header, claims] = token.split('.', 3).map(decodedSegment);
  if (!isJsonObject(header) || !isJsonObject(claims))
    throw new Rejection('invalid_token', 'Token header and claims must be JSON objects');
  if ('crit' in header)
    throw new Rejection('invalid_token', 'Token names critical header extensions (crit)');
}

function decodedSegment(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
