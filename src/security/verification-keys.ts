import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NAME_PATTERN } from '../client/bridge-wire.js';
import { keyPaths } from './key-files.js';

/** The public keys that verify module signatures (SPEC §2). */
export interface VerificationKeys {
  /** `public.pem`, for every module without a key of its own. */
  shared: KeyObject | undefined;
  /** `modules/<module>.pem`. */
  perModule: Map<string, KeyObject>;
}

/** Reads `public.pem` and `modules/*.pem` under `keysDir`; throws naming a file that is not a key. */
export function readVerificationKeys(keysDir: string): VerificationKeys {
  const paths = keyPaths(keysDir);
  const shared = existsSync(paths.publicKey) ? readPublicKey(paths.publicKey) : undefined;
  const perModule = new Map<string, KeyObject>();
  if (existsSync(paths.moduleKeysDir)) {
    for (const file of readdirSync(paths.moduleKeysDir)) {
      const module = basename(file, '.pem');
      if (!file.endsWith('.pem') || !NAME_PATTERN.test(module)) continue;
      perModule.set(module, readPublicKey(join(paths.moduleKeysDir, file)));
    }
  }
  return { shared, perModule };
}

/** A module's own key when it has one (then only that key verifies it), else `public.pem`. */
export function verificationKeyFor(keys: VerificationKeys, module: string): KeyObject | undefined {
  return keys.perModule.get(module) ?? keys.shared;
}

/**
 * `isPayloadSignatureValid` on the libuv thread pool, so that a bulk audit runs several checks at
 * once on every core.
 */
export function verifyPayloadSignature(
  key: KeyObject,
  canonicalPayload: string,
  signature: string,
): Promise<boolean> {
  // Node's base64 decoder reads both alphabets.
  const signatureBytes = Buffer.from(signature, 'base64');
  return new Promise((resolve) => {
    verify(
      'sha256',
      Buffer.from(canonicalPayload, 'utf8'),
      { key, padding: constants.RSA_PKCS1_PADDING },
      signatureBytes,
      (error, ok) => resolve(!error && ok),
    );
  });
}

function readPublicKey(path: string): KeyObject {
  try {
    return createPublicKey(readFileSync(path));
  } catch (error) {
    throw new Error(`${path} is not a readable public key: ${(error as Error).message}`);
  }
}
