import type { LoggerService } from '@nestjs/common';

/** Nest's start-up chatter, which would bury the engine's own lines in engine.log. */
const BOOT_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'NestApplicationContext']);

/**
 * Plain `LEVEL [context] message` lines on stdout. A runner node's supervisor timestamps them
 * into the node's engine.log, together with anything a plugin prints.
 */
export class LineLogger implements LoggerService {
  log(message: unknown, context?: string): void {
    if (!BOOT_CONTEXTS.has(context ?? '')) this.write('LOG', message, context);
  }

  warn(message: unknown, context?: string): void {
    this.write('WARN', message, context);
  }

  error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? String(rest[rest.length - 1]) : undefined;
    this.write('ERROR', message, context);
  }

  fatal(message: unknown, context?: string): void {
    this.write('FATAL', message, context);
  }

  private write(level: string, message: unknown, context: string | undefined): void {
    const text =
      message instanceof Error
        ? message.message
        : typeof message === 'object'
          ? JSON.stringify(message)
          : String(message);
    process.stdout.write(`${level}${context ? ` [${context}]` : ''} ${text}\n`);
  }
}
