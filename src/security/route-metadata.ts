import { Reflector } from '@nestjs/core';
import type { Role } from './role.js';
import type { SignedKind } from './signed-request.js';

/** The roles that may call a route. A route without `@Roles` or `@Public` is refused (fail closed). */
export const Roles = Reflector.createDecorator<Role[]>();

/** Opens a route to callers without a token (Kubernetes probes). */
export const Public = Reflector.createDecorator<boolean>({ transform: () => true });

/** Which signed body a `@SignedRequest` route takes. */
export const SignedKindOf = Reflector.createDecorator<SignedKind>();
