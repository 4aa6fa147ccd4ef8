import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { NAME_PATTERN } from '../client/bridge-wire.js';
import { keyPaths } from './key-files.js';

/**
 * Keys one module may hold at once (`modules/<module>/*.pem` and `modules/<module>.pem` together).
 * A signature that verifies with none of them costs one RSA verification per key (about 30 µs
 * each), so a forged request must not be able to make the service try many.
 */
export const MAX_KEYS_PER_MODULE = 4;

/** A verification key and its file, relative to `KEYS_DIR` (named in audit reports). */
export interface NamedKey {
  file: string;
  key: KeyObject;
}

/** The public keys that verify module signatures (SPEC §2). */
export interface VerificationKeys {
  /** `public.pem` (one key, or none), for every module without a key of its own. */
  shared: readonly NamedKey[];
  /**
   * A module's own keys, in the order they are tried: `modules/<module>/*.pem` by file name, last
   * name first (name them by date and the newest is tried first), then `modules/<module>.pem`.
   */
  perModule: Map<string, readonly NamedKey[]>;
}

/**
 * Reads `public.pem`, `modules/<module>.pem` and `modules/<module>/*.pem` under `keysDir`; throws
 * naming a file that is not a key, or a module with more than `maxKeysPerModule` keys.
 */
export function readVerificationKeys(
  keysDir: string,
  maxKeysPerModule = MAX_KEYS_PER_MODULE,
): VerificationKeys {
  const paths = keyPaths(keysDir);
  const shared = existsSync(paths.publicKey) ? [readNamedKey(keysDir, paths.publicKey)] : [];
  const perModule = new Map<string, readonly NamedKey[]>();
  for (const module of moduleKeyNames(keysDir)) {
    const files = [
      ...moduleKeyDirectoryFiles(join(paths.moduleKeysDir, module)),
      join(paths.moduleKeysDir, `${module}.pem`),
    ].filter((file) => existsSync(file));
    if (files.length === 0) continue;
    if (files.length > maxKeysPerModule) {
      throw new Error(
        `module ${module} has ${files.length} keys (${files.map((file) => relative(keysDir, file)).join(', ')}); at most ${maxKeysPerModule} verify one module: remove those it no longer signs with`,
      );
    }
    perModule.set(
      module,
      files.map((file) => readNamedKey(keysDir, file)),
    );
  }
  return { shared, perModule };
}

/**
 * The folders the key reader looks into: `KEYS_DIR`, `modules/` and each `modules/<module>/`,
 * for watching them.
 */
export function verificationKeyDirectories(keysDir: string): string[] {
  const { moduleKeysDir } = keyPaths(keysDir);
  const moduleDirs = moduleKeyNames(keysDir)
    .map((module) => join(moduleKeysDir, module))
    .filter(isDirectory);
  return [keysDir, moduleKeysDir, ...moduleDirs].filter(isDirectory);
}

/** A module's own keys when it has any (then only they verify it), else `public.pem`. */
export function verificationKeysFor(keys: VerificationKeys, module: string): readonly NamedKey[] {
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

/** The modules named by `modules/<module>.pem` files or `modules/<module>/` folders. */
function moduleKeyNames(keysDir: string): string[] {
  const { moduleKeysDir } = keyPaths(keysDir);
  if (!isDirectory(moduleKeysDir)) return [];
  const names = readdirSync(moduleKeysDir).map((entry) =>
    entry.endsWith('.pem') ? basename(entry, '.pem') : entry,
  );
  return [...new Set(names)].filter((name) => NAME_PATTERN.test(name) && !name.startsWith('.'));
}

/** The `*.pem` files of a module's key folder, last name first; none when there is no folder. */
function moduleKeyDirectoryFiles(dir: string): string[] {
  if (!isDirectory(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.pem') && !file.startsWith('.'))
    .sort()
    .reverse()
    .map((file) => join(dir, file));
}

/** Follows links: in a Kubernetes Secret volume, `modules` is a link into `..data`. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readNamedKey(keysDir: string, path: string): NamedKey {
  try {
    return { file: relative(keysDir, path), key: createPublicKey(readFileSync(path)) };
  } catch (error) {
    throw new Error(`${path} is not a readable public key: ${(error as Error).message}`);
  }
}
