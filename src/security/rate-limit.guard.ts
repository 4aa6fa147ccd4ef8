import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isIPv4, isIPv6 } from 'node:net';
import type { Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import type { BridgeRequest } from './signed-request.js';

type Limited = 'address' | 'subject';

/**
 * SPEC §4 "Limits": fixed-window counters (`rate-limiter-flexible`, in this replica's memory, O(1)
 * a request) per client address and per token subject. A request over a limit is refused before
 * anything costly: no token or signature check, no database write of its own (its rejection joins
 * the security log's batched insert like every other).
 */
@Injectable()
export class RateLimits {
  private readonly limiters: Record<Limited, RateLimiterMemory | undefined>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const limiter = (points: number) =>
      points === 0
        ? undefined
        : new RateLimiterMemory({ points, duration: config.rateLimitWindowSeconds });
    this.limiters = {
      address: limiter(config.rateLimitPerAddress),
      subject: limiter(config.rateLimitPerSubject),
    };
  }

  /** Counts one request against `key`; over the limit, sets `Retry-After` and throws 429. */
  async take(limited: Limited, key: string, response: Response): Promise<void> {
    try {
      await this.limiters[limited]?.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      response.setHeader('Retry-After', String(retryAfter));
      throw new Rejection(
        'rate_limited',
        `Too many requests from this ${limited === 'address' ? 'client address' : 'token'}; retry after ${retryAfter} s`,
      );
    }
  }
}

/**
 * The bucket of a client address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 prefix,
 * the block one host or household usually holds, so rotating addresses inside it gains nothing.
 */
export function addressBucket(address: string): string {
  const plain = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(.*)$/i.exec(plain)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (!isIPv6(plain)) return plain;
  const [head, tail] = plain.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/** Runs first of all guards (SPEC §4, before step 1): a flood is refused before its token is read. */
@Injectable()
export class AddressRateLimitGuard implements CanActivate {
  constructor(private readonly limits: RateLimits) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<BridgeRequest>();
    // `request.ip` honours TRUST_PROXY.
    await this.limits.take('address', addressBucket(request.ip ?? ''), http.getResponse());
    return true;
  }
}

/** Runs after the role check (SPEC §4, after step 2): one token cannot flood the signed routes. */
@Injectable()
export class SubjectRateLimitGuard implements CanActivate {
  constructor(private readonly limits: RateLimits) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<BridgeRequest>();
    const principal = request.principal;
    if (!principal) return true; // a @Public route
    // A token without `sub` counts by its own (verified, hence bounded in number) text.
    const key = principal.subject
      ? `sub:${principal.subject}`
      : `token:${request.headers.authorization}`;
    await this.limits.take('subject', key, http.getResponse());
    return true;
  }
}
