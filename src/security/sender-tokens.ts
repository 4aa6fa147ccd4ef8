import type { MintToken, BridgeTokenSource, SenderRole } from '../client/bridge-tokens.js';
import { FixedTokens, MintedTokens } from '../client/bridge-tokens.js';
import type { AppConfig } from '../config/app-config.js';
import { Role } from './role.js';
import { resolveJwtSecret } from './security-secrets.js';
import { TokenService } from './token.service.js';

/**
 * The tokens of a sender of this deployment (the service's own automation, the runner, the mock
 * modules): `BRIDGE_TOKEN` when given, else minted by `tokens` from `JWT_SECRET`.
 */
export function senderTokens(
  config: AppConfig,
  tokens: TokenService,
  module: string,
  identity: SenderRole,
): BridgeTokenSource {
  if (config.bridgeToken) return new FixedTokens(config.bridgeToken);
  const mint: MintToken = (role, subject, ttlSeconds) =>
    tokens.mint({
      roles: [role === 'module' ? Role.Module : Role.Automation],
      subject,
      ttlSeconds,
    });
  return new MintedTokens(mint, module, identity);
}

/**
 * The tokens of a command-line sender, which has no `TokenService` of its own: the JWT secret is
 * `JWT_SECRET`, in development the generated `KEYS_DIR/jwt-secret`.
 */
export function tokensFromConfig(
  config: AppConfig,
  module: string,
  identity: SenderRole,
): BridgeTokenSource {
  if (config.bridgeToken) return new FixedTokens(config.bridgeToken);
  const { jwtSecret } = resolveJwtSecret(config);
  return senderTokens(config, new TokenService({ jwtSecret }, config), module, identity);
}
