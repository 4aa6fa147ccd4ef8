import { existsSync } from 'node:fs';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/app-config.js';
import { generateKeyFiles, keyPaths, readOrCreateDevelopmentSecret } from './key-files.js';

/** Injection token of the resolved secrets (the JWT secret may be generated in development). */
export const SECURITY_SECRETS = Symbol('SECURITY_SECRETS');

export interface SecuritySecrets {
  jwtSecret: string;
}

export interface PreparedSecrets {
  secrets: SecuritySecrets;
  /** What development mode generated, for the start-up log. */
  notices: string[];
}

/**
 * Makes sure the keys and the JWT secret exist before the app starts. Production refuses to
 * start without them; development generates what is missing once and says so.
 */
export function prepareSecrets(config: AppConfig): PreparedSecrets {
  const paths = keyPaths(config.keysDir);
  const notices: string[] = [];
  if (config.isProduction) {
    const missing = [paths.publicKey, paths.checkpointKey].filter((path) => !existsSync(path));
    if (missing.length > 0 || !config.jwtSecret) {
      throw new ConfigError([
        ...missing.map(
          (path) =>
            `${path} is missing (production never generates keys; run npm run keys:generate)`,
        ),
        ...(config.jwtSecret ? [] : ['JWT_SECRET is required in production']),
      ]);
    }
    return { secrets: { jwtSecret: config.jwtSecret }, notices };
  }

  const generated = generateKeyFiles(config.keysDir, false);
  if (generated.written.length > 0)
    notices.push(`generated development keys: ${generated.written.join(', ')}`);
  const { jwtSecret, notice } = resolveJwtSecret(config);
  if (notice) notices.push(`${notice}; mint a token with: npm run token -- --role module`);
  return { secrets: { jwtSecret }, notices };
}

/** `JWT_SECRET`, or in development the secret generated once into `KEYS_DIR/jwt-secret`. */
export function resolveJwtSecret(config: AppConfig): { jwtSecret: string; notice?: string } {
  if (config.jwtSecret) return { jwtSecret: config.jwtSecret };
  if (config.isProduction) throw new ConfigError(['JWT_SECRET is required in production']);
  const stored = readOrCreateDevelopmentSecret(config.keysDir);
  const action = stored.created ? 'generated' : 'using';
  return {
    jwtSecret: stored.secret,
    notice: `${action} development JWT secret in ${keyPaths(config.keysDir).jwtSecret}`,
  };
}
