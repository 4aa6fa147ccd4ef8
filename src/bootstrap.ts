import 'reflect-metadata';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Express } from 'express';
import type { DataSource } from 'typeorm';
import { buildApiDocument } from './api-reference/api-document.js';
import { ApiReference } from './api-reference/api-reference.controller.js';
import { AppModule, type AppDependencies } from './app.module.js';
import { useOnEveryRequest } from './common/every-request.js';
import { AppLogger } from './common/logging.js';
import type { AppConfig } from './config/app-config.js';
import { createDataSource } from './database/data-source.js';
import { startEmbeddedPostgres } from './database/embedded/embedded-postgres.js';
import { runMigrationsExclusively } from './database/migrate.js';
import { prepareSecrets } from './security/security-secrets.js';

const CONNECT_ATTEMPTS = 10;

export interface StartupLog {
  log(message: string): void;
  warn(message: string): void;
}

export interface OpenDatabase {
  dataSource: DataSource;
  /** Where it is, for tools that open connections of their own (`chain:verify`'s workers). */
  url: string;
  /** Closes the pool, then stops the embedded server when there is one. */
  close(): Promise<void>;
}

/** Connects (starting the embedded PostgreSQL when `DATABASE_URL` is unset) and migrates. */
export async function openDatabase(config: AppConfig, log: StartupLog): Promise<OpenDatabase> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: config.dataDir,
        port: config.embeddedDatabasePort,
        logger: log,
      });
  if (embedded)
    log.log(
      `using the embedded PostgreSQL under ${embedded.dataDir} (set DATABASE_URL to use a server)`,
    );
  const url = embedded?.url ?? config.databaseUrl!;
  try {
    const dataSource = await connectWithRetries(url, config.databasePoolSize, log);
    const applied = await runMigrationsExclusively(dataSource);
    if (applied.length > 0) log.log(`applied migrations: ${applied.join(', ')}`);
    return {
      dataSource,
      url,
      close: async () => {
        await dataSource.destroy();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

async function connectWithRetries(
  url: string,
  poolSize: number,
  log: StartupLog,
): Promise<DataSource> {
  for (let attempt = 1; ; attempt += 1) {
    const dataSource = createDataSource(url, poolSize);
    try {
      return await dataSource.initialize();
    } catch (error) {
      const reason = (error as Error).message;
      if (attempt >= CONNECT_ATTEMPTS) {
        throw new Error(`database unreachable after ${CONNECT_ATTEMPTS} attempts: ${reason}`);
      }
      log.warn(`database not reachable yet (attempt ${attempt}/${CONNECT_ATTEMPTS}): ${reason}`);
      await sleep(Math.min(500 * attempt, 3000));
    }
  }
}

/** Builds the Nest application on an open, migrated database. It is not listening yet. */
export async function createBridgeApp(dependencies: AppDependencies): Promise<INestApplication> {
  // The body is read by SignedBodyInterceptor after the guards (SPEC §4 order), never up front.
  // Start-up lines are buffered until pino takes over, so they honour LOG_LEVEL too.
  const app = await NestFactory.create(AppModule.forRoot(dependencies), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(AppLogger));
  const express = app.getHttpAdapter().getInstance() as Express;
  express.disable('x-powered-by');
  // Which peer is the client (rate limits, security log): the TCP peer unless TRUST_PROXY names
  // the proxies in front whose X-Forwarded-For is believed.
  express.set('trust proxy', dependencies.config.trustProxy);
  useOnEveryRequest(app);
  limitSlowClients(app.getHttpServer(), dependencies.config);
  app.get(ApiReference).publish(() => buildApiDocument(app));
  return app;
}

/**
 * Deliberate timeouts instead of Node's defaults (60 s for headers, 5 min per request, 5 s
 * keep-alive): see `AppConfig`. Node enforces the first two on a 30 s sweep
 * (`connectionsCheckingInterval`), so a slow sender is cut between the timeout and 30 s after.
 */
function limitSlowClients(server: Server, config: AppConfig): void {
  server.headersTimeout = config.httpHeadersTimeoutMs;
  server.requestTimeout = config.httpRequestTimeoutMs;
  server.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
}

export interface RunningBridge {
  app: INestApplication;
  close(): Promise<void>;
}

/** Everything `npm start` does: secrets, database, migrations, app, listen. */
export async function startBridge(config: AppConfig, log: StartupLog): Promise<RunningBridge> {
  const { secrets, notices } = prepareSecrets(config);
  const database = await openDatabase(config, log);
  let app: INestApplication | undefined;
  try {
    app = await createBridgeApp({ config, dataSource: database.dataSource, secrets });
    notices.forEach((notice) => log.warn(notice));
    await app.listen(config.port);
  } catch (error) {
    await app?.close().catch(() => undefined);
    await database.close();
    throw error;
  }
  const running = app;
  return {
    app: running,
    close: async () => {
      await running.close();
      await database.close();
    },
  };
}
