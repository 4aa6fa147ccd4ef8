import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface SigningKeyPair {
  privateKey: KeyObject;
  /** The public half, to verify locally what was signed. */
  publicKey: KeyObject;
}

/**
 * The key the automation signs with (`KEYS_DIR/private.pem`), read on first use: a service
 * deployed without it still starts, and its automation runs fail saying what is missing.
 */
export class SigningKey {
  private pair: SigningKeyPair | undefined;

  constructor(readonly path: string) {}

  get(): SigningKeyPair {
    if (!this.pair) {
      let pem: string;
      try {
        pem = readFileSync(this.path, 'utf8');
      } catch (error) {
        throw new Error(
          `the automation signs with ${this.path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run npm run keys:generate or set KEYS_DIR`,
        );
      }
      const privateKey = createPrivateKey(pem);
      this.pair = { privateKey, publicKey: createPublicKey(privateKey) };
    }
    return this.pair;
  }
}
