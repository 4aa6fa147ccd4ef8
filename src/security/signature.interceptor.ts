import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { Rejection } from '../common/rejection.js';
import { Role } from './role.js';
import type { BridgeRequest } from './signed-request.js';
import { SignatureVerifier } from './signature-verifier.js';

/** SPEC §4 steps 4 and 5: the signature verifies, then a token's subject binds its module. */
@Injectable()
export class SignatureInterceptor implements NestInterceptor {
  constructor(private readonly verifier: SignatureVerifier) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<BridgeRequest>();
    const envelope = request.signed!;
    this.verifier.assertValid(
      envelope.module,
      envelope.canonicalPayload,
      envelope.signature,
      envelope.receivedBody,
    );
    envelope.signatureVerified = true;

    const principal = request.principal!;
    if (
      principal.subject !== undefined &&
      principal.roles.includes(Role.Module) &&
      principal.subject !== envelope.module
    ) {
      throw new Rejection(
        'module_mismatch',
        'Token subject does not match payload.module',
        envelope.module,
      );
    }
    return next.handle();
  }
}
