import { constants, createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, type JsonObject } from '../common/canonical-json.js';

/** A request body of SPEC §2, ready to POST. */
export interface SignedBody {
  payload: JsonObject;
  signature: string;
}

/** Signs the RFC 8785 bytes of `payload` with RSASSA-PKCS1-v1_5 / SHA-256 (standard base64). */
export function signPayload(privateKey: KeyObject | string, payload: JsonObject): SignedBody {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const signature = sign('sha256', Buffer.from(canonicalJson(payload), 'utf8'), key).toString(
    'base64',
  );
  return { payload, signature };
}

/**
 * True when `signature` (base64 or base64url) is an RSASSA-PKCS1-v1_5 / SHA-256 signature of the
 * UTF-8 bytes of `canonicalPayload`. Checked in the calling thread: an RSA-2048 check is about
 * 18 µs of CPU, and on a busy service handing it to the libuv thread pool cost more than it freed
 * (BENCHMARKS.md).
 */
export function isPayloadSignatureValid(
  key: KeyObject,
  canonicalPayload: string,
  signature: string,
): boolean {
  // Node's base64 decoder reads both alphabets.
  return verify(
    'sha256',
    Buffer.from(canonicalPayload, 'utf8'),
    { key, padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(signature, 'base64'),
  );
}
