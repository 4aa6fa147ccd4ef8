import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
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
