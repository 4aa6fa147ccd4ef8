import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { AccessLog } from './access-log.js';
import { ConnectionDrain } from './connection-drain.js';
import { LogMirror } from './log-mirror.js';
import { AppLogger, createHttpLogger, HTTP_LOGGER } from './logging.js';

/** Logging, log mirrors and the connection drain; their middleware runs from `useOnEveryRequest`. */
@Global()
@Module({
  providers: [
    LogMirror,
    ConnectionDrain,
    AppLogger,
    AccessLog,
    {
      provide: HTTP_LOGGER,
      useFactory: (config: AppConfig) => createHttpLogger(config),
      inject: [APP_CONFIG],
    },
  ],
  exports: [LogMirror, AppLogger],
})
export class CommonModule {}
