import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { RejectionRecorder } from '../common/rejection-recorder.js';
import { AutomationModuleQuota } from './automation-module-quota.js';
import { KeyStore } from './key-store.js';
import { NonceJanitor } from './nonce-janitor.js';
import { NonceInterceptor } from './nonce.interceptor.js';
import { NonceRepository } from './nonce.repository.js';
import { AddressRateLimitGuard, RateLimits, SubjectRateLimitGuard } from './rate-limit.guard.js';
import { RecentNonces } from './recent-nonces.js';
import { RolesGuard } from './roles.guard.js';
import { SecurityAudit } from './security-audit.service.js';
import { SecurityEventRepository } from './security-event.repository.js';
import { SecurityRejectionJanitor } from './security-rejection.janitor.js';
import { SECURITY_SECRETS, type SecuritySecrets } from './security-secrets.js';
import { SignatureVerifier } from './signature-verifier.js';
import { SignatureInterceptor } from './signature.interceptor.js';
import { SignedBodyInterceptor } from './signed-body.interceptor.js';
import { SignedRoutes } from './signed-routes.js';
import { TokenGuard } from './token.guard.js';
import { TokenService } from './token.service.js';

const services = [
  TokenService,
  RateLimits,
  KeyStore,
  RecentNonces,
  NonceRepository,
  SecurityAudit,
  SecurityEventRepository,
  SignedBodyInterceptor,
  SignatureInterceptor,
  AutomationModuleQuota,
  NonceInterceptor,
  SignatureVerifier,
  SignedRoutes,
];

/**
 * Rate limits, tokens and roles (global guards, run in the order listed: address limit, token,
 * role, subject limit), request signatures, nonces, the security log.
 */
@Module({})
export class SecurityModule {
  static forRoot(secrets: SecuritySecrets): DynamicModule {
    return {
      module: SecurityModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: SECURITY_SECRETS, useValue: secrets },
        { provide: APP_GUARD, useClass: AddressRateLimitGuard },
        { provide: APP_GUARD, useClass: TokenGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
        { provide: APP_GUARD, useClass: SubjectRateLimitGuard },
        { provide: RejectionRecorder, useExisting: SecurityAudit },
        NonceJanitor,
        SecurityRejectionJanitor,
        ...services,
      ],
      exports: [...services, RejectionRecorder],
    };
  }
}
