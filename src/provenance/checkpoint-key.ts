import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyPaths } from '../security/key-files.js';

/** The service's checkpoint key, `KEYS_DIR/checkpoint.pem` (SPEC §5), and its public half. */
export interface CheckpointKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** Reads `KEYS_DIR/checkpoint.pem`; refuses anything but an Ed25519 private key. */
export function readCheckpointSigningKey(keysDir: string): CheckpointKeyPair {
  const path = keyPaths(keysDir).checkpointKey;
  if (!existsSync(path)) {
    throw new Error(`${path} is missing (generate it with npm run keys:generate)`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path));
  } catch (error) {
    throw new Error(`${path} is not a readable private key: ${(error as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `${path} must be an Ed25519 key (openssl genpkey -algorithm ed25519), not ${privateKey.asymmetricKeyType}`,
    );
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[^-]+-----END \1-----/g;

/**
 * The checkpoint public keys in a PEM file, in file order: one key, or several one after the other
 * (what `chain:verify --print-checkpoint-keys` prints: the current key, then those it replaced).
 * A private key block stands for its public half, for the key's owner.
 */
export function readCheckpointPublicKeys(path: string): KeyObject[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${path} cannot be read: ${(error as Error).message}`);
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${path} is not a readable public key: no PEM block`);
  return blocks.map((block, index) => {
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(block);
    } catch (error) {
      throw new Error(
        `${path} (key ${index + 1}) is not a readable public key: ${(error as Error).message}`,
      );
    }
    if (publicKey.asymmetricKeyType !== 'ed25519') {
      throw new Error(`${path} is not an Ed25519 key (checkpoints are signed with Ed25519)`);
    }
    return publicKey;
  });
}

/**
 * The checkpoint keys that no longer sign but still verify: every `*.pem` of
 * `KEYS_DIR/checkpoint-previous/`, by file name, last name first (name them by date).
 */
export function readPreviousCheckpointKeys(keysDir: string): KeyObject[] {
  const dir = keyPaths(keysDir).previousCheckpointKeysDir;
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.pem') && !file.startsWith('.'))
    .sort()
    .reverse()
    .flatMap((file) => readCheckpointPublicKeys(join(dir, file)));
}

/** The public key as SPKI PEM, the form docs/auditing.md and the API publish. */
export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
