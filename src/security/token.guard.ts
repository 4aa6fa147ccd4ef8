import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Rejection } from '../common/rejection.js';
import { Public } from './route-metadata.js';
import type { BridgeRequest } from './signed-request.js';
import { TokenService } from './token.service.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** SPEC §4 step 1: a valid bearer token on every route not marked `@Public()`. */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.reflector.getAllAndOverride(Public, [context.getHandler(), context.getClass()]))
      return true;
    const request = context.switchToHttp().getRequest<BridgeRequest>();
    const header = request.headers.authorization;
    if (!header) throw new Rejection('missing_token', 'Authorization: Bearer <token> is required');
    // Node keeps the first of repeated Authorization headers and drops the rest; a proxy may keep
    // another one, so which token counts would be ambiguous.
    if (countAuthorizationHeaders(request.rawHeaders) > 1)
      throw new Rejection('invalid_token', 'Send exactly one Authorization header');
    const match = BEARER.exec(header);
    if (!match)
      throw new Rejection('invalid_token', 'Authorization header must be "Bearer <token>"');
    request.principal = this.tokens.verify(match[1]);
    return true;
  }
}

function countAuthorizationHeaders(rawHeaders: string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 13 && rawHeaders[i].toLowerCase() === 'authorization') count += 1;
  }
  return count;
}
