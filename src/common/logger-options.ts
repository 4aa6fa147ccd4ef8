import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config.js';

/**
 * Structured JSON logs on stdout (SPEC §7). Successful requests log at debug so a busy bridge
 * does not spend its time writing access logs; client errors log at warn, server errors at error.
 */
export function loggerOptions(config: AppConfig): Params {
  return {
    exclude: [
      { path: 'core/update', method: RequestMethod.POST },
      { path: 'core/heartbeat', method: RequestMethod.POST },
    ],
    pinoHttp: {
      level: config.logLevel,
      base: { node: config.nodeId },
      customLogLevel: (_request, response, error) => {
        if (error || response.statusCode >= 500) return 'error';
        return response.statusCode >= 400 ? 'warn' : 'debug';
      },
      redact: ['req.headers.authorization'],
      serializers: {
        req: (request: { method: string; url: string }) => ({
          method: request.method,
          url: request.url,
        }),
      },
    },
  };
}
