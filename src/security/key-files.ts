import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files under `KEYS_DIR` (SPEC §9). */
export function keyPaths(keysDir: string) {
  return {
    publicKey: join(keysDir, 'public.pem'),
    privateKey: join(keysDir, 'private.pem'),
    moduleKeysDir: join(keysDir, 'modules'),
    checkpointKey: join(keysDir, 'checkpoint.pem'),
    /** Public halves of the checkpoint keys `checkpoint.pem` replaced: they verify, never sign. */
    previousCheckpointKeysDir: join(keysDir, 'checkpoint-previous'),
    jwtSecret: join(keysDir, 'jwt-secret'),
  };
}

export interface GeneratedKeyFiles {
  written: string[];
  kept: string[];
}

/**
 * Writes the module signing pair (RSA 2048, PEM) and the service's Ed25519 checkpoint key.
 * Existing files are kept unless `overwrite` is set, so a key in use is never replaced by accident.
 */
export function generateKeyFiles(keysDir: string, overwrite: boolean): GeneratedKeyFiles {
  const paths = keyPaths(keysDir);
  mkdirSync(paths.moduleKeysDir, { recursive: true });
  const result: GeneratedKeyFiles = { written: [], kept: [] };

  if (overwrite || !(existsSync(paths.privateKey) || existsSync(paths.publicKey))) {
    const pair = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(paths.privateKey, pair.privateKey, { mode: 0o600 });
    writeFileSync(paths.publicKey, pair.publicKey, { mode: 0o644 });
    result.written.push(paths.privateKey, paths.publicKey);
  } else {
    result.kept.push(paths.privateKey, paths.publicKey);
  }

  if (overwrite || !existsSync(paths.checkpointKey)) {
    const pair = generateKeyPairSync('ed25519', {
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    writeFileSync(paths.checkpointKey, pair.privateKey, { mode: 0o600 });
    result.written.push(paths.checkpointKey);
  } else {
    result.kept.push(paths.checkpointKey);
  }
  return result;
}

/** The development JWT secret: generated once and kept in `KEYS_DIR/jwt-secret`. */
export function readOrCreateDevelopmentSecret(keysDir: string): {
  secret: string;
  created: boolean;
} {
  const path = keyPaths(keysDir).jwtSecret;
  if (existsSync(path)) return { secret: readFileSync(path, 'utf8').trim(), created: false };
  mkdirSync(keysDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}
