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
    const keys = this.keys.keysFor(module);
    if (keys.length === 0)
      throw new Rejection(
        'invalid_signature',
        'No verification key is configured for this module',
        module,
      );
    // The body check already made the signature canonical standard base64 (`canonicalSignature`).
    // Most modules have one key; during a rotation the newest is tried first.
    for (const { key } of keys) {
      if (isPayloadSignatureValid(key, canonicalPayload, signature)) return;
    }
    throw new Rejection(
      'invalid_signature',
      `Signature does not verify for this module${numberFormNote(receivedBody?.toString('utf8') ?? '')}`,
      module,
    );
  }
}

/**
 * The one text the chain stores for a signature: standard base64 with its padding, as
 * `signPayload` writes it and as a strict verifier of the export (Python's
 * `b64decode(validate=True)` and re-encoding) expects. `text` may also be that encoding without
 * padding, or base64url with or without it; undefined when it is none of these exactly: mixed
 * alphabets, non-zero trailing bits or wrong padding would give two texts for one signature.
 */
export function canonicalSignature(text: string): string | undefined {
  const standard = Buffer.from(text, 'base64').toString('base64');
  if (text === standard) return standard;
  const unpadded = standard.replace(/=+$/, '');
  const url = unpadded.replaceAll('+', '-').replaceAll('/', '_');
  const padding = standard.slice(unpadded.length);
  return text === unpadded || text === url || text === url + padding ? standard : undefined;
}
