import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Rejection } from '../common/rejection.js';
import { Public, Roles } from './route-metadata.js';
import type { BridgeRequest } from './signed-request.js';

/**
 * SPEC §4 step 2. Fails closed: a route that declares neither `@Roles` nor `@Public` is refused,
 * so a forgotten decorator can never open an endpoint.
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride(Public, targets)) return true;
    const allowed = this.reflector.getAllAndOverride(Roles, targets) ?? [];
    const principal = context.switchToHttp().getRequest<BridgeRequest>().principal;
    if (principal && principal.roles.some((role) => allowed.includes(role))) return true;
    throw new Rejection('forbidden_role', 'The token role may not call this endpoint');
  }
}
