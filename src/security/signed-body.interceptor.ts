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
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { Observable } from 'rxjs';
import {
  canonicalJson,
  findCanonicalizationProblem,
  type JsonObject,
} from '../common/canonical-json.js';
import { Rejection } from '../common/rejection.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { SignedKindOf } from './route-metadata.js';
import { SignedHeartbeatDto, SignedUpdateDto } from './signed-body.dto.js';
import type { BridgeRequest, SignedEnvelope, SignedKind } from './signed-request.js';

export const BODY_SHAPES: Record<SignedKind, ClassConstructor<object>> = {
  update: SignedUpdateDto,
  heartbeat: SignedHeartbeatDto,
};
/** Deep enough for any realistic reading, shallow enough that no canonicalizer recurses too far. */
const MAX_PAYLOAD_DEPTH = 64;

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

  private toEnvelope(kind: SignedKind, body: unknown): SignedEnvelope {
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
      module: payload.module as string,
      nonce: payload.nonce as string,
      signedAt,
      signatureVerified: false,
    };
  }
}

function bodyRejection(error: unknown): Rejection {
  const type = (error as { type?: string }).type;
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
