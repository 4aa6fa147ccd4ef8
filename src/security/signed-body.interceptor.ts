import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { validateSync, type ValidationError } from 'class-validator';
import type { Observable } from 'rxjs';
import {
  canonicalJson,
  findJsonTextProblem,
  findUnstorableValue,
  type JsonBounds,
  type JsonObject,
} from '../common/canonical-json.js';
import { readBoundedBody } from '../common/bounded-body.js';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { SignedKindOf } from './route-metadata.js';
import { envelopeOf, parseDateTime, surelyFollowsShape } from './signed-body.dto.js';
import type { BridgeRequest, SignedEnvelope, SignedKind } from './signed-request.js';
import { canonicalSignature } from './signature-verifier.js';

/**
 * What a body may hold, unsigned extra fields included. Deep and wide enough for any realistic
 * reading (10,000 values fill most of a 256 KiB body of short fields), bounded so that a hostile
 * body is refused before it is parsed and no canonicalizer recurses too far.
 */
export const BODY_BOUNDS: JsonBounds = { maxDepth: 64, maxValues: 10_000 };
const CHARSET = /;\s*charset="?([^";\s]*)/i;

/**
 * SPEC §4 step 3. The body is read here, after the guards, so a caller without a valid token
 * never makes the service read or parse a large body, and the order of checks holds exactly.
 */
@Injectable()
export class SignedBodyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<BridgeRequest>();
    const kind = this.reflector.get(SignedKindOf, context.getHandler());
    const bytes = await this.readBody(request);
    request.signed = this.toEnvelope(kind, parseJsonBody(bytes), bytes);
    return next.handle();
  }

  /** RFC 8259 JSON is UTF-8; the bytes are read within the limit and measured before parsing. */
  private async readBody(request: BridgeRequest): Promise<Buffer> {
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1] ?? 'utf-8';
    if (!request.is('application/json') || charset.toLowerCase() !== 'utf-8') {
      throw new Rejection('malformed_request', 'Content-Type must be application/json (UTF-8)');
    }
    const bytes = await readBoundedBody(request, this.config.bodyLimitBytes);
    const problem = findJsonTextProblem(bytes, BODY_BOUNDS);
    if (problem) throw new Rejection('malformed_request', `Body holds ${problem}`);
    return bytes;
  }

  /** Cheapest first: the envelope's own fields, then the bounded walk, then the canonical bytes. */
  private toEnvelope(kind: SignedKind, body: unknown, receivedBody: Buffer): SignedEnvelope {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new Rejection(
        'malformed_request',
        'Body must be a JSON object with payload and signature',
      );
    }
    if (!surelyFollowsShape(kind, body as Record<string, unknown>)) {
      // The shapes have no asynchronous rules; the synchronous form spares a promise per rule.
      const errors = validateSync(envelopeOf(kind, body as Record<string, unknown>));
      if (errors.length > 0) throw new Rejection('malformed_request', describeFirst(errors));
    }

    const problem = findUnstorableValue(body);
    if (problem) throw new Rejection('malformed_request', `Body cannot be stored: ${problem}`);
    const { payload, signature } = body as { payload: JsonObject; signature: string };
    const signedAt = parseDateTime(payload.timestamp as string);
    if (!signedAt) throw new Rejection('malformed_request', 'payload.timestamp is not a real date');
    const storedSignature = canonicalSignature(signature);
    if (!storedSignature)
      throw new Rejection(
        'malformed_request',
        'signature must be one exact base64 or base64url encoding (one alphabet, zero trailing bits, right padding)',
      );

    return {
      kind,
      payload,
      canonicalPayload: canonicalJson(payload),
      signature: storedSignature,
      receivedBody,
      module: payload.module as string,
      nonce: payload.nonce as string,
      signedAt,
      signatureVerified: false,
    };
  }
}

function parseJsonBody(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Rejection('malformed_request', 'Body is not valid JSON');
  }
}

function describeFirst(errors: ValidationError[], path = ''): string {
  const first = errors[0];
  const name = path ? `${path}.${first.property}` : first.property;
  if (first.constraints) {
    const message = Object.values(first.constraints)[0];
    return message.startsWith(name) ? message : `${name}: ${message}`;
  }
  return first.children?.length ? describeFirst(first.children, name) : `${name} is invalid`;
}
