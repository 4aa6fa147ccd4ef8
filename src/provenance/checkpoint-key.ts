import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
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

/** A checkpoint public key from a PEM file holding the public key (or, for its owner, the private key). */
export function readCheckpointPublicKey(path: string): KeyObject {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(readFileSync(path));
  } catch (error) {
    throw new Error(`${path} is not a readable public key: ${(error as Error).message}`);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${path} is not an Ed25519 key (checkpoints are signed with Ed25519)`);
  }
  return publicKey;
}

/** The public key as SPKI PEM, the form docs/auditing.md and the API publish. */
export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
