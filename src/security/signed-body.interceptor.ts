import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import bodyParser from 'body-parser';
import type { RequestHandler, Response } from 'express';
import { validateSync, type ValidationError } from 'class-validator';
import type { Observable } from 'rxjs';
import {
  canonicalJson,
  findJsonTextProblem,
  findUnstorableValue,
  type JsonBounds,
  type JsonObject,
} from '../common/canonical-json.js';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { SignedKindOf } from './route-metadata.js';
import { envelopeOf, parseDateTime } from './signed-body.dto.js';
import type { BridgeRequest, SignedEnvelope, SignedKind } from './signed-request.js';
import { canonicalSignature } from './signature-verifier.js';

/**
 * What a body may hold, unsigned extra fields included. Deep and wide enough for any realistic
 * reading (10,000 values fill most of a 256 KiB body of short fields), bounded so that a hostile
 * body is refused before it is parsed and no canonicalizer recurses too far.
 */
export const BODY_BOUNDS: JsonBounds = { maxDepth: 64, maxValues: 10_000 };

/** Marks an error of the raw body check for `bodyRejection`, as body-parser passes it on. */
const OUT_OF_BOUNDS = 'entity.out.of.bounds';
const NOT_UTF8 = 'entity.not.utf8';

/**
 * SPEC §4 step 3. The body is read here, after the guards, so a caller without a valid token
 * never makes the service read or parse a large body, and the order of checks holds exactly.
 */
@Injectable()
export class SignedBodyInterceptor implements NestInterceptor {
  private readonly parseJson: RequestHandler;

  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.parseJson = bodyParser.json({
      limit: config.bodyLimitBytes,
      strict: true,
      type: 'application/json',
      verify: checkRawBody,
    });
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<BridgeRequest>();
    const kind = this.reflector.get(SignedKindOf, context.getHandler());
    await this.readBody(request, http.getResponse<Response>());
    request.signed = this.toEnvelope(kind, request.body);
    return next.handle();
  }

  private readBody(request: BridgeRequest, response: Response): Promise<void> {
    if (!request.is('application/json')) {
      return Promise.reject(
        new Rejection('malformed_request', 'Content-Type must be application/json'),
      );
    }
    return new Promise((resolve, reject) => {
      this.parseJson(request, response, (error?: unknown) =>
        error ? reject(bodyRejection(error)) : resolve(),
      );
    });
  }

  /** Cheapest first: the envelope's own fields, then the bounded walk, then the canonical bytes. */
  private toEnvelope(kind: SignedKind, body: unknown): SignedEnvelope {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new Rejection(
        'malformed_request',
        'Body must be a JSON object with payload and signature',
      );
    }
    // The shapes have no asynchronous rules; the synchronous form spares a promise per rule.
    const errors = validateSync(envelopeOf(kind, body as Record<string, unknown>));
    if (errors.length > 0) throw new Rejection('malformed_request', describeFirst(errors));

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
      module: payload.module as string,
      nonce: payload.nonce as string,
      signedAt,
      signatureVerified: false,
    };
  }
}

/** Before `JSON.parse`: RFC 8259 JSON is UTF-8, and the text is within BODY_BOUNDS. */
function checkRawBody(_request: unknown, _response: unknown, raw: Buffer, encoding: string): void {
  if (encoding !== 'utf-8')
    throw Object.assign(new Error('Body must be UTF-8'), { type: NOT_UTF8 });
  const problem = findJsonTextProblem(raw, BODY_BOUNDS);
  if (problem) throw Object.assign(new Error(`Body holds ${problem}`), { type: OUT_OF_BOUNDS });
}

function bodyRejection(error: unknown): Rejection {
  const { type, message } = error as { type?: string; message: string };
  if (type === OUT_OF_BOUNDS || type === NOT_UTF8)
    return new Rejection('malformed_request', message);
  if (type === 'entity.too.large')
    return new Rejection('payload_too_large', 'Request body is larger than the limit');
  if (type === 'entity.parse.failed')
    return new Rejection('malformed_request', 'Body is not valid JSON');
  return new Rejection('malformed_request', 'Body could not be read');
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
