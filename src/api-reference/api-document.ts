import type { INestApplication, Type } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { METHOD_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import {
  DocumentBuilder,
  getSchemaPath,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { PositiveIntegerPipe } from '../common/positive-integer.pipe.js';
import { ALL_REASONS, REASONS, type Reason } from '../common/reasons.js';
import { APP_VERSION } from '../health/app-version.js';
import type { Role } from '../security/role.js';
import { Public, Roles, SignedKindOf } from '../security/route-metadata.js';
import type { SignedKind } from '../security/signed-request.js';
import { SIGNED_BODY_SHAPES as BODY_SHAPES } from '../security/signed-body.dto.js';
import { API_TAGS } from './api-tags.js';
import { ACCEPTED_EXAMPLES, SIGNED_BODY_EXAMPLES } from './examples.js';
import { RESPONSE_SCHEMAS } from './response-schemas.js';
import { Answers, reasonsAnsweredBy } from './route-answers.js';

const BEARER = 'bearer';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** The SPEC §4 rejection body, with `reason` narrowed to what one route and status can answer. */
function rejectionSchema(reasons: readonly Reason[]): SchemaObject {
  return {
    type: 'object',
    required: ['status', 'reason', 'message'],
    properties: {
      status: { type: 'string', enum: ['rejected'] },
      reason: { type: 'string', enum: [...reasons] },
      message: { type: 'string', description: 'For humans; never carries secrets or internals' },
    },
    additionalProperties: false,
  };
}

/** The answer to an unexpected error: no reason from the client's side, a request id for the log. */
const INTERNAL_ERROR: SchemaObject = {
  type: 'object',
  required: ['status', 'reason', 'message', 'request_id'],
  properties: {
    status: { type: 'string', enum: ['error'] },
    reason: { type: 'string', enum: ['internal_error'] },
    message: { type: 'string' },
    request_id: { type: 'string', format: 'uuid' },
  },
  additionalProperties: false,
};

/**
 * The OpenAPI 3.1 document of every route the app serves. `@nestjs/swagger` reads the routes, their
 * parameters and the `@Api*` answers; then each operation is completed from the route's own
 * metadata: its roles (`@Roles` / `@Public`), its signed body (`@SignedRequest`), and the rejection
 * reasons the rules of `route-answers.ts` give it, each with the status `REASONS` assigns.
 */
export function buildApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Core–Bucket Bridge')
    .setVersion(APP_VERSION)
    .setDescription(
      'Signed ingestion with replay protection and a verifiable provenance chain. ' +
        'Every rejection answers `{"status":"rejected","reason","message"}`; ' +
        'each operation lists the roles that may call it and the reasons it can answer.',
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256, `roles` claim' },
      BEARER,
    );
  for (const { name, description } of Object.values(API_TAGS)) builder.addTag(name, description);
  const config = builder.build();
  config.components = {
    ...config.components,
    schemas: {
      ...RESPONSE_SCHEMAS,
      /** Every reason; each operation narrows `reason` to what it can answer. */
      Rejection: rejectionSchema(ALL_REASONS),
      InternalError: INTERNAL_ERROR,
    },
  };
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: operationId,
    extraModels: Object.values(BODY_SHAPES),
  });
  const operations = operationsById(document);
  const reflector = app.get(Reflector);
  for (const { controller, method } of routeHandlers(app)) {
    const operation = operations.get(operationId(controller.name, method.name));
    if (!operation)
      throw new Error(`${controller.name}.${method.name} is missing from the document`);
    const targets: [Type, Type] = [method, controller];
    const open = reflector.getAllAndOverride(Public, targets) ?? false;
    describeAccess(operation, open ? 'open' : (reflector.getAllAndOverride(Roles, targets) ?? []));
    const kind = reflector.get(SignedKindOf, method);
    if (kind) describeSignedBody(operation, kind);
    const piped = pipedParameters(controller, method.name);
    describeIntegerParameters(operation, piped);
    describeRejections(
      operation,
      reasonsAnsweredBy({
        open,
        signed: kind !== undefined,
        parameters: piped.length > 0,
        declared: reflector.getAllAndMerge(Answers, targets),
      }),
    );
  }
  return document;
}

function operationId(controller: string, method: string): string {
  return `${controller}_${method}`;
}

function operationsById(document: OpenAPIObject): Map<string, OperationObject> {
  const byId = new Map<string, OperationObject>();
  for (const item of Object.values(document.paths))
    for (const verb of HTTP_METHODS) {
      const operation = item[verb];
      if (operation?.operationId) byId.set(operation.operationId, operation);
    }
  return byId;
}

/** Every route handler of every controller, found as `SignedRoutes` finds the signed ones. */
function routeHandlers(app: INestApplication): { controller: Type; method: Type }[] {
  const scanner = app.get(MetadataScanner);
  const handlers: { controller: Type; method: Type }[] = [];
  for (const { metatype } of app.get(DiscoveryService).getControllers()) {
    if (!metatype) continue;
    const controller = metatype as Type;
    const prototype = controller.prototype as Record<string, Type>;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const method = prototype[name];
      if (Reflect.getMetadata(METHOD_METADATA, method) !== undefined)
        handlers.push({ controller, method });
    }
  }
  return handlers;
}

/** The handler's `@Query` / `@Param` arguments that a pipe parses (and may refuse). */
function pipedParameters(
  controller: Type,
  methodName: string,
): { name: string; pipes: unknown[] }[] {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, methodName) ?? {}) as Record<
    string,
    { data?: unknown; pipes?: unknown[] }
  >;
  return Object.entries(args).flatMap(([key, arg]) => {
    const type = Number(key.split(':')[0]);
    const parameter = type === RouteParamtypes.QUERY || type === RouteParamtypes.PARAM;
    return parameter && arg.pipes?.length ? [{ name: String(arg.data), pipes: arg.pipes }] : [];
  });
}

/** A parameter `PositiveIntegerPipe` parses is documented as what that pipe accepts. */
function describeIntegerParameters(
  operation: OperationObject,
  piped: { name: string; pipes: unknown[] }[],
): void {
  for (const { name, pipes } of piped) {
    if (!pipes.some((pipe) => pipe instanceof PositiveIntegerPipe)) continue;
    const parameter = operation.parameters?.find(
      (candidate) => 'name' in candidate && candidate.name === name,
    );
    if (parameter && 'name' in parameter) parameter.schema = { type: 'integer', minimum: 1 };
  }
}

/** The bearer requirement and the roles `@Roles` names (`x-roles`), or none on an open route. */
function describeAccess(operation: OperationObject, access: 'open' | readonly Role[]): void {
  const roles = access === 'open' ? [] : [...access];
  operation.security = access === 'open' ? [] : [{ [BEARER]: [] }];
  (operation as OperationObject & { 'x-roles': Role[] })['x-roles'] = roles;
  const summary =
    access === 'open'
      ? 'Open: no token needed.'
      : `Roles: ${roles.map((role) => `\`${role}\``).join(', ') || 'none (refused)'}.`;
  operation.description = [summary, operation.description].filter(Boolean).join('\n\n');
}

/** The envelope `@SignedRequest(kind)` reads, with the vectors' examples of it and of its answer. */
function describeSignedBody(operation: OperationObject, kind: SignedKind): void {
  operation.description +=
    '\n\nA signed request: the signature covers the UTF-8 bytes of the RFC 8785 (JCS) form of ' +
    '`payload`; the checks run in this order: token, role, body, signature, module, freshness, nonce.';
  operation.requestBody = {
    required: true,
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(BODY_SHAPES[kind]) },
        example: SIGNED_BODY_EXAMPLES[kind],
      },
    },
  };
  const accepted = operation.responses['201'] as ResponseObject;
  accepted.content!['application/json'].example = ACCEPTED_EXAMPLES[kind];
}

/** One response per status the route's reasons have, each listing those reasons. */
function describeRejections(operation: OperationObject, reasons: readonly Reason[]): void {
  const byStatus = new Map<number, Reason[]>();
  for (const reason of reasons) {
    const { status } = REASONS[reason];
    byStatus.set(status, [...(byStatus.get(status) ?? []), reason]);
  }
  for (const [status, group] of byStatus) {
    if (operation.responses[status])
      throw new Error(`${operation.operationId}: ${status} is both an answer and a rejection`);
    const internal = group.includes('internal_error');
    operation.responses[status] = {
      description: group
        .map((reason) => `\`${reason}\`: ${REASONS[reason].description}`)
        .join('; '),
      content: {
        'application/json': {
          schema: internal
            ? { $ref: '#/components/schemas/InternalError' }
            : rejectionSchema(group),
          examples: Object.fromEntries(
            group.map((reason) => [reason, { value: exampleBody(reason) }]),
          ),
        },
      },
    };
  }
}

function exampleBody(reason: Reason): object {
  const message = REASONS[reason].description;
  if (reason === 'internal_error')
    return {
      status: 'error',
      reason,
      message: 'Internal error',
      request_id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
    };
  return { status: 'rejected', reason, message };
}
