import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { loadConfig, type AppConfig } from '../../src/config/app-config.js';
import { createBridgeApp, openDatabase, type OpenDatabase } from '../../src/bootstrap.js';
import type { CheckpointView } from '../../src/provenance/checkpoint.service.js';
import { prepareSecrets } from '../../src/security/security-secrets.js';
import { heartbeatPayload, signed, TEST_JWT_SECRET, tokenFor } from './requests.js';

export interface TestBridge {
  app: INestApplication;
  config: AppConfig;
  baseUrl: string;
  close(): Promise<void>;
}

const quietLog = { log: () => undefined, warn: () => undefined };

/** An in-process bridge on a random port against `databaseUrl`, configured as production would be. */
export async function startTestBridge(options: {
  databaseUrl: string;
  keysDir: string;
  env?: Record<string, string>;
}): Promise<TestBridge> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATABASE_URL: options.databaseUrl,
    KEYS_DIR: options.keysDir,
    JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'silent',
    LOG_DIR: 'none',
    DATABASE_POOL_SIZE: '5',
    ...options.env,
  });
  const database: OpenDatabase = await openDatabase(config, quietLog);
  const app = await createBridgeApp({
    config,
    dataSource: database.dataSource,
    secrets: prepareSecrets(config).secrets,
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

/** Grows the chain by `count` entries through the API: one accepted, signed heartbeat each. */
export async function appendHeartbeats(
  bridge: TestBridge,
  privateKeyPem: string,
  count: number,
): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await request(bridge.app.getHttpServer())
      .post('/core/heartbeat')
      .set('Content-Type', 'application/json')
      .set('Authorization', `Bearer ${tokenFor(['module'])}`)
      .send(JSON.stringify(signed(privateKeyPem, heartbeatPayload())))
      .expect(201);
  }
}

/** Has the bridge sign a checkpoint now, as an admin would (POST /provenance/checkpoint). */
export async function signCheckpointNow(bridge: TestBridge): Promise<CheckpointView> {
  const answer = await request(bridge.app.getHttpServer())
    .post('/provenance/checkpoint')
    .set('Authorization', `Bearer ${tokenFor(['admin'])}`)
    .expect(201);
  return answer.body as CheckpointView;
}
