import type { Request } from 'express';
import type { JsonObject } from '../common/canonical-json.js';
import type { EventKind } from '../common/event-kinds.js';
import type { Principal } from './role.js';

/** The kind of event a signed route takes (its `@SignedRequest(kind)`). */
export type SignedKind = EventKind;

/** A well-formed signed request body (SPEC §2) with the bytes its signature covers. */
export interface SignedEnvelope {
  kind: SignedKind;
  /** The payload exactly as received; every signed field is kept. */
  payload: JsonObject;
  /** RFC 8785 text of `payload`: the signed bytes and the chain's payload text. */
  canonicalPayload: string;
  signature: string;
  /** The body as received, read only to explain a failed signature. */
  receivedBody: Buffer;
  module: string;
  nonce: string;
  /** `payload.timestamp` parsed. */
  signedAt: Date;
  signatureVerified: boolean;
}

export type VerifiedEnvelope = SignedEnvelope & { signatureVerified: true };

export interface BridgeRequest extends Request {
  principal?: Principal;
  signed?: SignedEnvelope;
  /** The raw JSON body, kept by the body parser. */
  rawBody?: Buffer;
}
