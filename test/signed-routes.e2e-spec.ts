import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Controller,
  Get,
  HttpCode,
  Module,
  Post,
  Req,
  RequestMethod,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';
import { AppModule } from '../src/app.module.js';
import { openDatabase, type OpenDatabase } from '../src/bootstrap.js';
import { useOnEveryRequest } from '../src/common/every-request.js';
import { loadConfig } from '../src/config/app-config.js';
import { Roles, SignedRequest } from '../src/security/decorators.js';
import { Role } from '../src/security/role.js';
import { prepareSecrets } from '../src/security/security-secrets.js';
import type { BridgeRequest } from '../src/security/signed-request.js';
import { SignedRoutes } from '../src/security/signed-routes.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { signed, TEST_JWT_SECRET, tokenFor, updatePayload } from './support/requests.js';
import { waitFor } from './support/wait.js';

/** pino-http puts `log` on every request it logs; the answer says whether it did. */
const accessLogged = (req: BridgeRequest) => ({ access_logged: 'log' in req });

/** A signed route under a name no table of paths knows, beside an ordinary one. */
@Controller('readings')
class RenamedRouteController {
  @Post('ingest')
  @HttpCode(201)
  @Roles([Role.Module])
  @SignedRequest('update')
  ingest(@Req() req: BridgeRequest) {
    return { status: 'accepted', ...accessLogged(req) };
  }

  @Get('plain')
  @Roles([Role.Module])
  plain(@Req() req: BridgeRequest) {
    return accessLogged(req);
  }
}

@Module({ controllers: [RenamedRouteController] })
class RenamedRouteModule {}

describe('signed routes are found by their @SignedRequest(kind), not by path', () => {
  let db: TestDatabase;
  let database: OpenDatabase;
  let app: INestApplication;
  let keys: TestKeys;
  let logDir: string;
  const moduleToken = tokenFor(['module']);
  const flowLines = () =>
    existsSync(join(logDir, 'flow.log'))
      ? readFileSync(join(logDir, 'flow.log'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      : [];

  beforeAll(async () => {
    db = await createTestDatabase('signed_routes');
    keys = createTestKeys();
    logDir = mkdtempSync(join(tmpdir(), 'bridge-routes-'));
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '0',
      DATABASE_URL: db.url,
      KEYS_DIR: keys.dir,
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_LEVEL: 'silent',
      LOG_DIR: logDir,
      DATABASE_POOL_SIZE: '2',
    });
    database = await openDatabase(config, { log: () => undefined, warn: () => undefined });
    const dependencies = {
      config,
      dataSource: database.dataSource,
      secrets: prepareSecrets(config).secrets,
    };
    @Module({ imports: [AppModule.forRoot(dependencies), RenamedRouteModule] })
    class TestRootModule {}
    app = await NestFactory.create(TestRootModule, { bodyParser: false, logger: false });
    useOnEveryRequest(app); // as createBridgeApp does: the access log and metrics among them
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await database?.close();
    await db?.drop();
  });

  it('lists the renamed route with the built-in ones', () => {
    expect(app.get(SignedRoutes).list()).toEqual(
      expect.arrayContaining([
        { path: '/core/update', method: RequestMethod.POST, kind: 'update' },
        { path: '/core/heartbeat', method: RequestMethod.POST, kind: 'heartbeat' },
        { path: '/readings/ingest', method: RequestMethod.POST, kind: 'update' },
      ]),
    );
  });

  it('keeps the renamed route out of the access log and writes its flow.log lines', async () => {
    const server = app.getHttpServer();
    const plain = await request(server)
      .get('/readings/plain')
      .set('Authorization', `Bearer ${moduleToken}`);
    expect(plain.body).toEqual({ access_logged: true });

    const body = signed(keys.privateKeyPem, updatePayload({ module: 'renamed-module' }));
    const accepted = await request(server)
      .post('/readings/ingest')
      .set('Authorization', `Bearer ${moduleToken}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
    expect([accepted.status, accepted.body]).toEqual([
      201,
      { status: 'accepted', access_logged: false },
    ]);
    const refused = await request(server)
      .post('/readings/ingest')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
    expect(refused.status).toBe(401);

    await waitFor(() => flowLines().length >= 2, 'two flow.log lines');
    const flow = flowLines();
    expect(flow).toEqual([
      expect.objectContaining({ module: 'renamed-module', type: 'update', outcome: 'accepted' }),
      expect.objectContaining({ type: 'update', outcome: 'rejected', reason: 'missing_token' }),
    ]);
  });
});
