import {
  applyDecorators,
  createParamDecorator,
  UseInterceptors,
  type ExecutionContext,
} from '@nestjs/common';
import type { BridgeRequest, SignedKind, VerifiedEnvelope } from './signed-request.js';
import { SignedKindOf } from './route-metadata.js';
import { SignedBodyInterceptor } from './signed-body.interceptor.js';
import { SignatureInterceptor } from './signature.interceptor.js';
import { NonceInterceptor } from './nonce.interceptor.js';

export { Public, Roles } from './route-metadata.js';

/**
 * SPEC §4 steps 3–7 for a signed route, in order: body shape, signature and module binding,
 * then freshness and the nonce fast path. The nonce is claimed for good in the store transaction.
 */
export const SignedRequest = (kind: SignedKind) =>
  applyDecorators(
    SignedKindOf(kind),
    UseInterceptors(SignedBodyInterceptor, SignatureInterceptor, NonceInterceptor),
  );

/** The request body after every check of `@SignedRequest` passed. */
export const Verified = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerifiedEnvelope => {
    const envelope = context.switchToHttp().getRequest<BridgeRequest>().signed;
    if (!envelope?.signatureVerified)
      throw new Error('@Verified() used on a route without @SignedRequest()');
    return envelope as VerifiedEnvelope;
  },
);
