import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenAPIObject, OperationObject, ResponseObject } from '@nestjs/swagger';
import { jobOf, TEST_PLUGIN_DIRS, writeJobFile } from './support/automation.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, setDatabaseReachable, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { heartbeatPayload, signed, tokenFor, updatePayload } from './support/requests.js';
import { VECTORS_DIR } from './support/vectors.js';
import { API_TAGS } from '../src/api-reference/api-tags.js';
import { canonicalJson } from '../src/common/canonical-json.js';
import { REASONS, type Reason } from '../src/common/reasons.js';
import type { JsonObject } from '../src/common/canonical-json.js';

const BODY_LIMIT_BYTES = 4096;

type Method = 'GET' | 'POST';

/** A path to call for each JSON read the app serves, with the template the document lists it under. */
const JSON_READS: [string, string][] = [
  ['/bucket/status', '/bucket/status'],
  ['/core/health', '/core/health'],
  ['/health/live', '/health/live'],
  ['/health/ready', '/health/ready'],
  ['/provenance/verify', '/provenance/verify'],
  ['/provenance/checkpoint', '/provenance/checkpoint'],
  ['/provenance/checkpoint/2', '/provenance/checkpoint/{length}'],
  ['/provenance/checkpoint-key', '/provenance/checkpoint-key'],
  ['/provenance/entries/1', '/provenance/entries/{sequence}'],
  ['/provenance/proof/inclusion?sequence=1', '/provenance/proof/inclusion'],
  ['/provenance/proof/consistency?from=1&to=2', '/provenance/proof/consistency'],
  ['/automation/jobs', '/automation/jobs'],
  ['/automation/runs', '/automation/runs'],
];

interface Answer {
  status: number;
  contentType: string;
  body: unknown;
}

/** Express's route templates (`/provenance/entries/:sequence`) as OpenAPI writes them. */
function openApiPath(expressPath: string): string {
  return expressPath.replace(/[:*](\w+)/g, '{$1}');
}

/** `value` with its component refs pointing at `$defs`, where a standalone JSON Schema keeps them. */
function refsToDefs<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replaceAll('"#/components/schemas/', '"#/$defs/')) as T;
}

/** OpenAPI 3.1 schemas are JSON Schema 2020-12; their refs point into the document's components. */
function schemaValidator(document: OpenAPIObject): (schema: object) => ValidateFunction {
  const ajv = new Ajv2020({ allErrors: true });
  addFormats.default(ajv);
  // OpenAPI's own schema keywords, which carry documentation only.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  const defs = refsToDefs(document.components?.schemas ?? {});
  return (schema) => ajv.compile({ ...refsToDefs(schema), $defs: defs });
}

describe('OpenAPI reference (SPEC §12)', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let document: OpenAPIObject;
  let compile: (schema: object) => ValidateFunction;
  const admin = tokenFor(['admin']);

  const call = async (
    method: Method,
    path: string,
    options: { token?: string | null; body?: unknown; rawBody?: string; baseUrl?: string } = {},
  ): Promise<Answer> => {
    const token = options.token === undefined ? admin : options.token;
    const response = await fetch((options.baseUrl ?? bridge.baseUrl) + path, {
      method,
      headers: {
        ...(token !== null ? { Authorization: `Bearer ${token}` } : {}),
        ...(options.body !== undefined || options.rawBody !== undefined
          ? { 'Content-Type': 'application/json' }
          : {}),
      },
      body:
        options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.text();
    return {
      status: response.status,
      contentType,
      body: contentType.startsWith('application/json') ? JSON.parse(text) : text,
    };
  };

  /** Checks `answer` against what the document says `method template` answers with its status. */
  const expectDocumented = (method: Method, template: string, answer: Answer) => {
    const operation = document.paths[template]?.[method.toLowerCase() as 'get' | 'post'] as
      OperationObject | undefined;
    if (!operation) throw new Error(`${method} ${template} is not in the document`);
    const response = operation.responses[answer.status] as ResponseObject | undefined;
    if (!response)
      throw new Error(
        `${method} ${template} answered ${answer.status}, which the document does not list: ${JSON.stringify(answer.body)}`,
      );
    const media = response.content?.['application/json'];
    expect(answer.contentType).toMatch(/^application\/json/);
    const validate = compile(media!.schema as object);
    if (!validate(answer.body))
      throw new Error(
        `${method} ${template} ${answer.status}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(answer.body)}`,
      );
  };

  const expectRejection = (method: Method, template: string, reason: Reason, answer: Answer) => {
    expect({ status: answer.status, reason: (answer.body as { reason?: string }).reason }).toEqual({
      status: REASONS[reason].status,
      reason,
    });
    expectDocumented(method, template, answer);
  };

  beforeAll(async () => {
    db = await createTestDatabase('openapi');
    keys = createTestKeys();
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: {
        BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
        CHECKPOINT_EVERY_ENTRIES: '0',
        CHECKPOINT_INTERVAL_MINUTES: '0',
        CHECKPOINT_FRESHNESS_MS: '0',
      },
    });
    const answer = await call('GET', '/docs/openapi.json', { token: null });
    expect(answer.status).toBe(200);
    document = answer.body as OpenAPIObject;
    compile = schemaValidator(document);
  }, 60_000);

  afterAll(async () => {
    await bridge?.close();
    await db?.drop();
  });

  it('documents exactly the routes the app serves', () => {
    type Layer = { route?: { path: string; methods: Record<string, boolean> } };
    const express = bridge.app.getHttpAdapter().getInstance() as { router: { stack: Layer[] } };
    const served = express.router.stack.flatMap(({ route }) =>
      route
        ? Object.keys(route.methods).map((m) => `${m.toUpperCase()} ${openApiPath(route.path)}`)
        : [],
    );
    const documented = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(served.length).toBeGreaterThan(20);
    const undescribed = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, OperationObject>)
        .filter(([, operation]) =>
          Object.entries(operation.responses).every(
            ([status, response]) => !/^2/.test(status) || !(response as ResponseObject).content,
          ),
        )
        .map(([method]) => `${method} ${path}`),
    );
    expect(undescribed).toEqual([]);
    expect([...documented].sort()).toEqual([...new Set(served)].sort());
  });

  it('puts every operation in one of the sections the document lists, in their order', () => {
    const listed = (document.tags ?? []).map(({ name }) => name);
    expect(listed).toEqual(Object.values(API_TAGS).map(({ name }) => name));
    const tagsOf = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, OperationObject>).map(([method, operation]) => ({
        operation: `${method} ${path}`,
        tags: operation.tags,
      })),
    );
    expect(tagsOf.filter(({ tags }) => tags?.length !== 1 || !listed.includes(tags[0]))).toEqual(
      [],
    );
    const used = new Set(tagsOf.map(({ tags }) => tags?.[0]));
    expect(listed.filter((name) => !used.has(name))).toEqual([]);
    expect(document.paths['/core/update'].post?.tags).toEqual([API_TAGS.ingestion.name]);
  });

  it('states the roles of each operation as the route metadata gives them', () => {
    const roles = (method: 'get' | 'post', path: string) => {
      const operation = document.paths[path][method] as OperationObject & { 'x-roles': string[] };
      return { roles: operation['x-roles'], security: operation.security };
    };
    const bearer = [{ bearer: [] }];
    expect(roles('post', '/core/update')).toEqual({ roles: ['module', 'admin'], security: bearer });
    expect(roles('get', '/provenance/verify')).toEqual({
      roles: ['admin', 'auditor'],
      security: bearer,
    });
    expect(roles('get', '/health/live')).toEqual({ roles: [], security: [] });
    expect(roles('get', '/docs')).toEqual({ roles: [], security: [] });
    expect(document.components?.securitySchemes?.bearer).toMatchObject({ scheme: 'bearer' });
  });

  it('lists the signed-route reasons on signed routes only', () => {
    const reasonsOf = (method: 'get' | 'post', path: string) =>
      Object.values((document.paths[path][method] as OperationObject).responses).flatMap(
        (response) => {
          type Body = { $ref?: string; properties?: { reason?: { enum?: string[] } } };
          const schema = (response as ResponseObject).content?.['application/json']?.schema as
            Body | undefined;
          const named = schema?.$ref?.replace('#/components/schemas/', '');
          const body = named ? (document.components?.schemas?.[named] as Body) : schema;
          return body?.properties?.reason?.enum ?? [];
        },
      );
    expect(reasonsOf('post', '/core/heartbeat')).toEqual(
      expect.arrayContaining([
        'missing_token',
        'forbidden_role',
        'replay_detected',
        'invalid_signature',
      ]),
    );
    expect(reasonsOf('get', '/bucket/status')).not.toContain('replay_detected');
    expect(reasonsOf('get', '/health/live')).toEqual(['rate_limited', 'internal_error']);
    expect(reasonsOf('get', '/provenance/entries/{sequence}')).toEqual(
      expect.arrayContaining(['invalid_parameter', 'not_found']),
    );
  });

  it('documents the parameters a positive-integer pipe parses as positive integers', () => {
    const schemaOf = (path: string, name: string) =>
      (document.paths[path].get!.parameters as { name: string; schema: object }[]).find(
        (parameter) => parameter.name === name,
      )?.schema;
    const positive = { type: 'integer', minimum: 1 };
    expect(schemaOf('/provenance/entries/{sequence}', 'sequence')).toEqual(positive);
    expect(schemaOf('/automation/runs', 'limit')).toEqual(positive);
    expect(schemaOf('/automation/runs', 'job')).toEqual({ type: 'string' });
  });

  it('describes the signed bodies with examples that verify', () => {
    const publicKey = createPublicKey(readFileSync(join(VECTORS_DIR, 'test-public.pem')));
    for (const path of ['/core/update', '/core/heartbeat']) {
      const media = (document.paths[path].post as OperationObject).requestBody as {
        content: Record<
          string,
          { schema: object; example: { payload: JsonObject; signature: string } }
        >;
      };
      const { schema, example } = media.content['application/json'];
      const validate = compile(schema);
      expect({ path, valid: validate(example), errors: validate.errors }).toEqual({
        path,
        valid: true,
        errors: null,
      });
      const signedBytes = Buffer.from(canonicalJson(example.payload), 'utf8');
      expect(
        verify('sha256', signedBytes, publicKey, Buffer.from(example.signature, 'base64')),
      ).toBe(true);
      // What the service refuses as malformed, the schema refuses too.
      expect(validate({ ...example, payload: { ...example.payload, nonce: 'short' } })).toBe(false);
    }
  });

  it('validates real answers against the documented schemas', async () => {
    const badlySigned = (payload: JsonObject) => ({
      ...signed(keys.privateKeyPem, updatePayload()),
      payload,
    });
    // Before anything was stored: nothing to sign, no checkpoint yet.
    expectRejection(
      'POST',
      '/provenance/checkpoint',
      'checkpoint_refused',
      await call('POST', '/provenance/checkpoint'),
    );
    expectRejection(
      'GET',
      '/provenance/checkpoint',
      'not_found',
      await call('GET', '/provenance/checkpoint'),
    );

    const update = signed(keys.privateKeyPem, updatePayload());
    const accepted = await call('POST', '/core/update', { body: update });
    expect(accepted.status).toBe(201);
    expectDocumented('POST', '/core/update', accepted);
    const heartbeat = await call('POST', '/core/heartbeat', {
      body: signed(
        keys.privateKeyPem,
        heartbeatPayload({ module: 'automation-node-001', node: 'node-001' }),
      ),
      token: tokenFor(['automation']),
    });
    expect(heartbeat.status).toBe(201);
    expectDocumented('POST', '/core/heartbeat', heartbeat);

    const rejections: [Reason, Method, string, Promise<Answer>][] = [
      ['missing_token', 'GET', '/bucket/status', call('GET', '/bucket/status', { token: null })],
      ['invalid_token', 'GET', '/bucket/status', call('GET', '/bucket/status', { token: 'x.y.z' })],
      [
        'token_expired',
        'GET',
        '/core/health',
        call('GET', '/core/health', { token: tokenFor(['admin'], { ttlSeconds: -60 }) }),
      ],
      [
        'invalid_issuer',
        'GET',
        '/automation/jobs',
        call('GET', '/automation/jobs', { token: tokenFor(['admin'], { issuer: 'elsewhere' }) }),
      ],
      [
        'forbidden_role',
        'POST',
        '/core/update',
        call('POST', '/core/update', {
          body: signed(keys.privateKeyPem, updatePayload()),
          token: tokenFor(['automation']),
        }),
      ],
      ['malformed_request', 'POST', '/core/update', call('POST', '/core/update', { body: {} })],
      [
        'payload_too_large',
        'POST',
        '/core/heartbeat',
        call('POST', '/core/heartbeat', { rawBody: `{"pad":"${'x'.repeat(BODY_LIMIT_BYTES)}"}` }),
      ],
      [
        'invalid_signature',
        'POST',
        '/core/update',
        call('POST', '/core/update', { body: badlySigned(updatePayload()) }),
      ],
      [
        'module_mismatch',
        'POST',
        '/core/update',
        call('POST', '/core/update', {
          body: signed(keys.privateKeyPem, updatePayload({ module: 'module-a' })),
          token: tokenFor(['module'], { sub: 'module-b' }),
        }),
      ],
      [
        'stale_timestamp',
        'POST',
        '/core/heartbeat',
        call('POST', '/core/heartbeat', {
          body: signed(
            keys.privateKeyPem,
            heartbeatPayload({ timestamp: new Date(Date.now() - 3_600_000).toISOString() }),
          ),
        }),
      ],
      ['replay_detected', 'POST', '/core/update', call('POST', '/core/update', { body: update })],
      [
        'not_found',
        'GET',
        '/provenance/entries/{sequence}',
        call('GET', '/provenance/entries/9999'),
      ],
      [
        'invalid_parameter',
        'GET',
        '/provenance/entries/{sequence}',
        call('GET', '/provenance/entries/abc'),
      ],
      [
        'invalid_parameter',
        'GET',
        '/provenance/proof/inclusion',
        call('GET', '/provenance/proof/inclusion'),
      ],
      [
        'unknown_job',
        'POST',
        '/automation/jobs/{name}/run',
        call('POST', '/automation/jobs/no-such-job/run'),
      ],
    ];
    for (const [reason, method, template, answer] of rejections)
      expectRejection(method, template, reason, await answer);

    const checkpoint = await call('POST', '/provenance/checkpoint');
    expect(checkpoint.status).toBe(201);
    expectDocumented('POST', '/provenance/checkpoint', checkpoint);
    for (const [path, template] of JSON_READS) {
      const answer = await call('GET', path);
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
      expectDocumented('GET', template, answer);
    }
  });

  it('validates the answers of a limited client, and of every route while the store is unreachable', async () => {
    // A replica of its own that lets one request an address through per minute.
    const limited = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: { RATE_LIMIT_PER_ADDRESS: '1', RATE_LIMIT_WINDOW_SECONDS: '60' },
    });
    try {
      const options = {
        baseUrl: limited.baseUrl,
        body: signed(keys.privateKeyPem, updatePayload()),
      };
      expect((await call('POST', '/core/update', options)).status).toBe(201);
      expectRejection(
        'POST',
        '/core/update',
        'rate_limited',
        await call('POST', '/core/update', options),
      );
    } finally {
      await limited.close();
    }

    await setDatabaseReachable(db.name, false);
    try {
      // Every route either does without the store or says so in a documented answer.
      const undocumented: string[] = [];
      const textReads: [string, string][] = [
        ['/provenance/export', '/provenance/export'],
        ['/provenance/receipt/1', '/provenance/receipt/{sequence}'],
        ['/tlog/checkpoint', '/tlog/checkpoint'],
        ['/tlog/tile/0/000', '/tlog/tile/{path}'],
        ['/insight/api/summary', '/insight/api/summary'],
      ];
      const calls: [Method, string, string][] = [
        ...[...JSON_READS, ...textReads].map(([path, template]): [Method, string, string] => [
          'GET',
          path,
          template,
        ]),
        ['POST', '/provenance/checkpoint', '/provenance/checkpoint'],
        ['POST', '/automation/jobs/heartbeat/run', '/automation/jobs/{name}/run'],
      ];
      for (const [method, path, template] of calls) {
        const answer = await call(method, path);
        if (answer.status === 200 && !answer.contentType.startsWith('application/json')) continue;
        try {
          expectDocumented(method, template, answer);
        } catch (error) {
          undocumented.push((error as Error).message);
        }
      }
      expect(undocumented).toEqual([]);
      expectRejection(
        'POST',
        '/core/update',
        'store_unavailable',
        await call('POST', '/core/update', { body: signed(keys.privateKeyPem, updatePayload()) }),
      );
    } finally {
      await setDatabaseReachable(db.name, true);
    }
  });

  it('validates the answer to a job run while that job is still running', async () => {
    // A replica of its own with one job that runs until its gate file appears.
    const gateFile = join(mkdtempSync(join(tmpdir(), 'bridge-gate-')), 'open');
    const automated = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: {
        AUTOMATION_CONFIG: writeJobFile([jobOf('gate', 'gate', { params: { file: gateFile } })]),
        PLUGINS_DIR: TEST_PLUGIN_DIRS,
      },
    });
    try {
      const run = () => call('POST', '/automation/jobs/gate/run', { baseUrl: automated.baseUrl });
      const first = await run();
      expect(first.status).toBe(202);
      expectDocumented('POST', '/automation/jobs/{name}/run', first);
      expectRejection('POST', '/automation/jobs/{name}/run', 'job_running', await run());
    } finally {
      writeFileSync(gateFile, '');
      await automated.close();
      rmSync(dirname(gateFile), { recursive: true, force: true });
    }
  });

  it('serves the browsable reference from its own origin', async () => {
    const page = await fetch(`${bridge.baseUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url);
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const url of urls) {
      const resolved = new URL(url, `${bridge.baseUrl}/docs`);
      expect(resolved.origin).toBe(bridge.baseUrl);
      const asset = await fetch(resolved);
      expect({ url, status: asset.status }).toEqual({ url, status: 200 });
      await asset.arrayBuffer();
    }
    const unknown = await call('GET', '/docs/assets/package.json', { token: null });
    expectRejection('GET', '/docs/assets/{name}', 'not_found', unknown);
  });
});
