import { constants, verify as verifySignature } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Rejection } from '../common/rejection.js';
import { KeyStore } from './key-store.js';

/** SPEC §2: RSASSA-PKCS1-v1_5 / SHA-256 over the UTF-8 bytes of the canonical payload. */
@Injectable()
export class SignatureVerifier {
  constructor(private readonly keys: KeyStore) {}

  /** Resolves when `signature` (base64 or base64url) signs `canonicalPayload` for `module`. */
  async assertValid(module: string, canonicalPayload: string, signature: string): Promise<void> {
    const key = this.keys.keyFor(module);
    if (!key)
      throw new Rejection(
        'invalid_signature',
        'No verification key is configured for this module',
        module,
      );
    // Node's base64 decoder reads both alphabets; the body check already refused other characters.
    const signatureBytes = Buffer.from(signature, 'base64');
    const valid = await new Promise<boolean>((resolve) => {
      // The callback form runs on the libuv thread pool, keeping RSA work off the event loop.
      verifySignature(
        'sha256',
        Buffer.from(canonicalPayload, 'utf8'),
        { key, padding: constants.RSA_PKCS1_PADDING },
        signatureBytes,
        (error, ok) => resolve(!error && ok),
      );
    });
    if (!valid)
      throw new Rejection('invalid_signature', 'Signature does not verify for this module', module);
  }
}
