import { Injectable } from '@nestjs/common';
import { numberFormNote } from '../common/canonical-json.js';
import { Rejection } from '../common/rejection.js';
import { KeyStore } from './key-store.js';
import { isPayloadSignatureValid } from '../client/payload-signer.js';

/** SPEC §2: RSASSA-PKCS1-v1_5 / SHA-256 over the UTF-8 bytes of the canonical payload. */
@Injectable()
export class SignatureVerifier {
  constructor(private readonly keys: KeyStore) {}

  /**
   * Returns when `signature` (base64 or base64url) signs `canonicalPayload` for `module`;
   * `receivedBody`, when given, explains a failure caused by a client's own number forms.
   */
  assertValid(
    module: string,
    canonicalPayload: string,
    signature: string,
    receivedBody?: Buffer,
  ): void {
    const key = this.keys.keyFor(module);
    if (!key)
      throw new Rejection(
        'invalid_signature',
        'No verification key is configured for this module',
        module,
      );
    // The body check already refused characters outside the base64 and base64url alphabets.
    if (!isPayloadSignatureValid(key, canonicalPayload, signature))
      throw new Rejection(
        'invalid_signature',
        `Signature does not verify for this module${numberFormNote(receivedBody?.toString('utf8') ?? '')}`,
        module,
      );
  }
}
