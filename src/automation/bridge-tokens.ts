import type { AppConfig } from '../config/app-config.js';
import { Role } from '../security/role.js';
import { resolveJwtSecret } from '../security/security-secrets.js';
import { TokenService } from '../security/token.service.js';

/** Lifetime of a token the automation mints for itself. */
const TOKEN_TTL_SECONDS = 300;
/** A minted token is reused until it has this little life left. */
const RENEW_BEFORE_MS = 60_000;

/** Which bearer token each kind of bridge call carries. */
export interface BridgeTokenSource {
  forHeartbeat(): string;
  forUpdate(): string;
  forRead(): string;
}

/** `BRIDGE_TOKEN`: one token an operator minted, carried by every call. */
export class FixedTokens implements BridgeTokenSource {
  constructor(private readonly token: string) {}

  forHeartbeat(): string {
    return this.token;
  }

  forUpdate(): string {
    return this.token;
  }

  forRead(): string {
    return this.token;
  }
}

/**
 * Short-lived tokens minted from `JWT_SECRET`. As `automation`, heartbeats and reads carry an
 * automation token; updates (which SPEC §3 refuses to automation tokens) carry a module token
 * whose `sub` binds it to this sender's own module name, so it can never write as a real module.
 * As `module` (the mock modules), every call carries that bound module token.
 */
export class MintedTokens implements BridgeTokenSource {
  private readonly cache = new Map<string, { token: string; renewAt: number }>();

  constructor(
    private readonly tokens: TokenService,
    private readonly module: string,
    private readonly identity: Role.Automation | Role.Module,
  ) {}

  forHeartbeat(): string {
    return this.identity === Role.Automation
      ? this.token(Role.Automation)
      : this.token(Role.Module);
  }

  forUpdate(): string {
    return this.token(Role.Module);
  }

  forRead(): string {
    return this.forHeartbeat();
  }

  private token(role: Role.Automation | Role.Module): string {
    const cached = this.cache.get(role);
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const token = this.tokens.mint({
      roles: [role],
      subject: role === Role.Module ? this.module : undefined,
      ttlSeconds: TOKEN_TTL_SECONDS,
    });
    this.cache.set(role, {
      token,
      renewAt: Date.now() + TOKEN_TTL_SECONDS * 1000 - RENEW_BEFORE_MS,
    });
    return token;
  }
}

/**
 * The tokens of a command-line sender (the runner, the mock modules): `BRIDGE_TOKEN` when given,
 * else minted from `JWT_SECRET` (in development, the generated `KEYS_DIR/jwt-secret`).
 */
export function tokensFromConfig(
  config: AppConfig,
  module: string,
  identity: Role.Automation | Role.Module,
): BridgeTokenSource {
  if (config.bridgeToken) return new FixedTokens(config.bridgeToken);
  const { jwtSecret } = resolveJwtSecret(config);
  return new MintedTokens(new TokenService({ jwtSecret }, config), module, identity);
}
