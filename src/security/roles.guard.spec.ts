import { Controller, Get, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Public, Roles } from './route-metadata.js';
import { Role, type Principal } from './role.js';
import { RolesGuard } from './roles.guard.js';

@Controller()
class ExampleController {
  @Get() @Roles([Role.Admin]) adminOnly() {}
  @Get() @Public() probe() {}
  @Get() undecorated() {}
}

@Controller()
@Roles([Role.Automation])
class AutomationController {
  @Get() inherited() {}
  @Get() @Roles([Role.Module]) overridden() {}
}

function contextFor(
  controller: new () => object,
  handler: string,
  principal?: Principal,
): ExecutionContext {
  return {
    getHandler: () => (controller.prototype as Record<string, unknown>)[handler],
    getClass: () => controller,
    switchToHttp: () => ({ getRequest: () => ({ principal }) }),
  } as unknown as ExecutionContext;
}

describe('RolesGuard (with a real Reflector)', () => {
  const guard = new RolesGuard(new Reflector());
  const admin: Principal = { roles: [Role.Admin], expiresAtMs: Infinity };
  const moduleToken: Principal = { roles: [Role.Module], expiresAtMs: Infinity };
  const automation: Principal = { roles: [Role.Automation], expiresAtMs: Infinity };

  it('lets an allowed role through', () => {
    expect(guard.canActivate(contextFor(ExampleController, 'adminOnly', admin))).toBe(true);
  });

  it('refuses another role with forbidden_role', () => {
    expect(() =>
      guard.canActivate(contextFor(ExampleController, 'adminOnly', moduleToken)),
    ).toThrow(expect.objectContaining({ reason: 'forbidden_role', status: 403 }));
  });

  it('fails closed: a route without @Roles or @Public is refused even to admins', () => {
    expect(() => guard.canActivate(contextFor(ExampleController, 'undecorated', admin))).toThrow(
      expect.objectContaining({ reason: 'forbidden_role' }),
    );
  });

  it('opens @Public routes without a principal', () => {
    expect(guard.canActivate(contextFor(ExampleController, 'probe'))).toBe(true);
  });

  it('reads class-level roles, and a handler-level @Roles overrides them', () => {
    expect(guard.canActivate(contextFor(AutomationController, 'inherited', automation))).toBe(true);
    expect(guard.canActivate(contextFor(AutomationController, 'overridden', moduleToken))).toBe(
      true,
    );
    expect(() =>
      guard.canActivate(contextFor(AutomationController, 'overridden', automation)),
    ).toThrow(expect.objectContaining({ reason: 'forbidden_role' }));
  });
});
