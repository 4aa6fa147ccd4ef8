import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { RecentNonces } from './recent-nonces.js';
import type { BridgeRequest } from './signed-request.js';

/**
 * SPEC §4 steps 6 and 7 (fast path): the signed timestamp lies within the clock-skew window, and
 * the nonce is not one this instance just committed. The nonce table decides for good in the
 * store transaction.
 */
@Injectable()
export class NonceInterceptor implements NestInterceptor {
  private readonly maxSkewMs: number;

  constructor(
    private readonly recentNonces: RecentNonces,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.maxSkewMs = config.maxClockSkewSeconds * 1000;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const envelope = context.switchToHttp().getRequest<BridgeRequest>().signed!;
    if (Math.abs(Date.now() - envelope.signedAt.getTime()) > this.maxSkewMs) {
      throw new Rejection(
        'stale_timestamp',
        'payload.timestamp is outside the accepted clock skew',
        envelope.module,
      );
    }
    if (this.recentNonces.has(envelope.nonce)) {
      throw new Rejection('replay_detected', 'This nonce was already used', envelope.module);
    }
    return next.handle();
  }
}
