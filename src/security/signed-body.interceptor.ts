import {
  Inject,
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { Observable } from 'rxjs';
import {
  canonicalJson,
  findCanonicalizationProblem,
  type JsonObject,
} from '../common/canonical-json.js';
import { readBoundedBody } from '../common/bounded-body.js';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { SignedKindOf } from './route-metadata.js';
import { SignedHeartbeatDto, SignedUpdateDto } from './signed-body.dto.js';
import type { BridgeRequest, SignedEnvelope, SignedKind } from './signed-request.js';

const BODY_SHAPES: Record<SignedKind, ClassConstructor<object>> = {
  update: SignedUpdateDto,
  heartbeat: SignedHeartbeatDto,
};
/** Deep enough for any realistic reading, shallow enough that no canonicalizer recurses too far. */
const MAX_PAYLOAD_DEPTH = 64;
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

  private async readBody(request: BridgeRequest): Promise<Buffer> {
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1] ?? 'utf-8';
    if (!request.is('application/json') || charset.toLowerCase() !== 'utf-8') {
      throw new Rejection('malformed_request', 'Content-Type must be application/json (UTF-8)');
    }
    return readBoundedBody(request, this.config.bodyLimitBytes);
  }

  private toEnvelope(kind: SignedKind, body: unknown, receivedBody: Buffer): SignedEnvelope {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new Rejection(
        'malformed_request',
        'Body must be a JSON object with payload and signature',
      );
    }
    // The shapes have no asynchronous rules; the synchronous form spares a promise per rule.
    const errors = validateSync(plainToInstance(BODY_SHAPES[kind], body));
    if (errors.length > 0) throw new Rejection('malformed_request', describeFirst(errors));

    const { payload, signature } = body as { payload: JsonObject; signature: string };
    const problem = findCanonicalizationProblem(payload, MAX_PAYLOAD_DEPTH);
    if (problem)
      throw new Rejection('malformed_request', `payload cannot be canonicalized: ${problem}`);
    const signedAt = new Date(payload.timestamp as string);
    if (Number.isNaN(signedAt.getTime()))
      throw new Rejection('malformed_request', 'payload.timestamp is not a real date');

    return {
      kind,
      payload,
      canonicalPayload: canonicalJson(payload),
      signature,
      receivedBody,
      module: payload.module as string,
      nonce: payload.nonce as string,
      signedAt,
      signatureVerified: false,
    };
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

function parseJsonBody(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Rejection('malformed_request', 'Body is not valid JSON');
  }
}
