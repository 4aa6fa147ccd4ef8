import { randomBytes } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import type { JsonObject } from '../../src/common/canonical-json.js';
import { signPayload, type SignedBody } from '../../src/client/payload-signer.js';
import type { Role } from '../../src/security/role.js';

export const TEST_JWT_SECRET = 'test-secret-for-the-bridge-suites-0123456789';
export const TEST_ISSUER = 'core-bucket-bridge';

export interface TokenOptions {
  sub?: string;
  ttlSeconds?: number;
  issuer?: string;
  secret?: string;
  extraClaims?: Record<string, unknown>;
}

/** An HS256 token as a client library writes it. */
export function tokenFor(roles: Role[] | string[], options: TokenOptions = {}): string {
  const claims: Record<string, unknown> = {
    iss: options.issuer ?? TEST_ISSUER,
    exp: Math.floor(Date.now() / 1000) + (options.ttlSeconds ?? 600),
    roles,
    ...options.extraClaims,
  };
  if (options.sub) claims.sub = options.sub;
  return jsonwebtoken.sign(claims, options.secret ?? TEST_JWT_SECRET, { algorithm: 'HS256' });
}

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export interface PayloadOptions {
  module?: string;
  nonce?: string;
  timestamp?: string;
}

export function updatePayload(options: PayloadOptions & { data?: JsonObject } = {}): JsonObject {
  return {
    module: options.module ?? 'module-a',
    nonce: options.nonce ?? newNonce(),
    timestamp: options.timestamp ?? new Date().toISOString(),
    data: options.data ?? { temperature: 21.5, unit: 'C' },
  };
}

export function heartbeatPayload(
  options: PayloadOptions & { status?: string; node?: string } = {},
): JsonObject {
  const payload: JsonObject = {
    module: options.module ?? 'module-a',
    nonce: options.nonce ?? newNonce(),
    timestamp: options.timestamp ?? new Date().toISOString(),
    status: options.status ?? 'alive',
  };
  if (options.node) payload.node = options.node;
  return payload;
}

export function signed(privateKeyPem: string, payload: JsonObject): SignedBody {
  return signPayload(privateKeyPem, payload);
}
