import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { Rejection } from '../common/rejection.js';
import { AUTOMATION_MODULE_PREFIX } from '../client/bridge-wire.js';
import { AutomationModuleQuota } from './automation-module-quota.js';
import { Role, type Principal } from './role.js';
import type { BridgeRequest } from './signed-request.js';
import { SignatureVerifier } from './signature-verifier.js';

/** SPEC §4 steps 4 and 5: the signature verifies, then a token's subject binds its module. */
@Injectable()
export class SignatureInterceptor implements NestInterceptor {
  constructor(
    private readonly verifier: SignatureVerifier,
    private readonly automationModules: AutomationModuleQuota,
  ) {}

  /** Synchronous unless the automation quota must be asked: that spares a promise per update. */
  intercept(
    context: ExecutionContext,
    next: CallHandler,
  ): Observable<unknown> | Promise<Observable<unknown>> {
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
    const mismatch = moduleMismatch(principal, envelope.module);
    if (mismatch) throw new Rejection('module_mismatch', mismatch, envelope.module);
    if (isAutomationOnly(principal))
      return this.automationModules.assertMayUse(envelope.module).then(() => next.handle());
    return next.handle();
  }
}

/**
 * Who may sign as which module (step 5), or why not: a module token with a subject only as that
 * module; a token that is only `automation` only as an `automation-…` module (what the built-in
 * automation and the runner sign as), so it cannot keep a real module looking alive. Admin tokens
 * and module tokens without a subject are not bound. (`AutomationModuleQuota` caps the names.)
 */
function moduleMismatch(principal: Principal, module: string): string | undefined {
  const { roles, subject } = principal;
  if (subject !== undefined && roles.includes(Role.Module) && subject !== module) {
    return 'Token subject does not match payload.module';
  }
  if (isAutomationOnly(principal) && !module.startsWith(AUTOMATION_MODULE_PREFIX)) {
    return `An automation token may only send as a module named ${AUTOMATION_MODULE_PREFIX}…`;
  }
  return undefined;
}

function isAutomationOnly({ roles }: Principal): boolean {
  return (
    roles.includes(Role.Automation) && !roles.includes(Role.Module) && !roles.includes(Role.Admin)
  );
}
