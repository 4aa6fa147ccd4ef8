import {
  Inject,
  Injectable,
  type CanActivate,
  type ExecutionContext,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { normalizeIp, ThrottlerStorageService } from '@nestjs/throttler';
import type { Response } from 'express';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import type { BridgeRequest } from './signed-request.js';

type Limited = 'address' | 'subject';

/**
 * SPEC §4 "Limits": sliding-window counters (`@nestjs/throttler`'s in-memory storage) per client
 * address and per token subject, in this replica's memory. A request over a limit is refused
 * before anything costly: no token or signature check, no database write of its own (its
 * rejection joins the security log's batched insert like every other).
 */
@Injectable()
export class RateLimits implements OnApplicationShutdown {
  private readonly storage = new ThrottlerStorageService();
  private readonly windowMs: number;
  private readonly limits: Record<Limited, number>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.windowMs = config.rateLimitWindowSeconds * 1000;
    this.limits = { address: config.rateLimitPerAddress, subject: config.rateLimitPerSubject };
  }

  /** Counts one request against `key`; over the limit, sets `Retry-After` and throws 429. */
  async take(limited: Limited, key: string, response: Response): Promise<void> {
    const limit = this.limits[limited];
    if (limit === 0) return;
    const { isBlocked, timeToBlockExpire } = await this.storage.increment(
      `${limited}:${key}`,
      this.windowMs,
      limit,
      0,
      limited,
    );
    if (!isBlocked) return;
    const retryAfter = Math.max(1, timeToBlockExpire);
    response.setHeader('Retry-After', String(retryAfter));
    throw new Rejection(
      'rate_limited',
      `Too many requests from this ${limited === 'address' ? 'client address' : 'token'}; retry after ${retryAfter} s`,
    );
  }

  onApplicationShutdown(): void {
    this.storage.onApplicationShutdown();
  }
}

/** Runs first of all guards (SPEC §4, before step 1): a flood is refused before its token is read. */
@Injectable()
export class AddressRateLimitGuard implements CanActivate {
  constructor(private readonly limits: RateLimits) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<BridgeRequest>();
    // `request.ip` honours TRUST_PROXY; IPv6 clients count by /64, the block one host usually has.
    await this.limits.take('address', normalizeIp(request.ip ?? ''), http.getResponse());
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
    const key = principal.subject ? `sub:${principal.subject}` : `token:${request.headers.authorization}`;
    await this.limits.take('subject', key, http.getResponse());
    return true;
  }
}
