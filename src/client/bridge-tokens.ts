/** Lifetime of a token the automation mints for itself. */
const TOKEN_TTL_SECONDS = 300;
/** A minted token is reused until it has this little life left. */
const RENEW_BEFORE_MS = 60_000;

/** The SPEC §3 roles a sender mints for itself. */
export type SenderRole = 'automation' | 'module';

/** Mints a bearer token; the server's `TokenService.mint`, kept out of the client's imports. */
export type MintToken = (
  role: SenderRole,
  subject: string | undefined,
  ttlSeconds: number,
) => string;

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
  private readonly cache = new Map<SenderRole, { token: string; renewAt: number }>();

  constructor(
    private readonly mint: MintToken,
    private readonly module: string,
    private readonly identity: SenderRole,
  ) {}

  forHeartbeat(): string {
    return this.token(this.identity);
  }

  forUpdate(): string {
    return this.token('module');
  }

  forRead(): string {
    return this.forHeartbeat();
  }

  private token(role: SenderRole): string {
    const cached = this.cache.get(role);
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const token = this.mint(role, role === 'module' ? this.module : undefined, TOKEN_TTL_SECONDS);
    this.cache.set(role, {
      token,
      renewAt: Date.now() + TOKEN_TTL_SECONDS * 1000 - RENEW_BEFORE_MS,
    });
    return token;
  }
}
