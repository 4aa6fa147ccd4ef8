import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import { pino, type LevelWithSilent, type Logger as Pino } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import type { AppConfig } from '../config/app-config.js';
import { boundedText } from './bounded-text.js';

/** The `pino-http` middleware; its `logger` is the root logger every other log line goes through. */
export const HTTP_LOGGER = Symbol('HTTP_LOGGER');

/**
 * Structured JSON logs on stdout (SPEC §7). Successful requests log at debug so a busy bridge does
 * not spend its time writing access logs; client errors log at warn, server errors at error.
 */
export function createHttpLogger(config: AppConfig): HttpLogger {
  return pinoHttp<IncomingMessage, ServerResponse>({
    level: config.logLevel,
    base: { node: config.nodeId },
    customLogLevel: (_request, response, error): LevelWithSilent => {
      if (error || response.statusCode >= 500) return 'error';
      return response.statusCode >= 400 ? 'warn' : 'debug';
    },
    redact: ['req.headers.authorization'],
    serializers: {
      req: (request: { method: string; url: string }) => ({
        method: boundedText(request.method),
        url: boundedText(request.url),
      }),
    },
  });
}

/**
 * The lines `main` writes before Nest (and its logger) exist, in the same JSON shape as every
 * later line: time, level, node, msg.
 */
export function createStartupLogger(config: Pick<AppConfig, 'logLevel' | 'nodeId'>): Pino {
  return pino({ level: config.logLevel, base: { node: config.nodeId } });
}

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Nest passes a stack trace as a string argument of `error`. */
const STACK_TRACE = /\n\s+at .+/;

/**
 * Nest's logger on the root pino logger: one JSON line per call, `context` naming the caller.
 * Deliberately without request-bound loggers (nestjs-pino's): those need AsyncLocalStorage, which
 * on Node 20 runs a hook on every promise the process creates, and cost about 8% of the service's
 * CPU per ingested update (BENCHMARKS.md).
 */
@Injectable()
export class AppLogger implements LoggerService {
  private readonly pino: Pino;

  constructor(@Inject(HTTP_LOGGER) httpLogger: HttpLogger) {
    this.pino = httpLogger.logger;
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** `rest` is Nest's optional parameters: a stack trace (errors only), then the context. */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    for (const parameter of rest) {
      if (typeof parameter === 'string' && STACK_TRACE.test(parameter)) fields.stack = parameter;
      else if (typeof parameter === 'string') fields.context = parameter;
    }
    if (message instanceof Error) this.pino[level]({ ...fields, err: message });
    else if (typeof message === 'object' && message !== null)
      this.pino[level]({ ...fields, ...message });
    else this.pino[level](fields, String(message));
  }
}
