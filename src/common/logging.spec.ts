import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { HttpLogger } from 'pino-http';
import { AppLogger } from './logging.js';

describe('AppLogger', () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = new AppLogger({ logger: pino({ level: 'info' }, sink) } as unknown as HttpLogger);

  beforeEach(() => (lines.length = 0));

  it('writes the message with the calling context', () => {
    logger.log('started', 'IngestionQueue');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: 'started', context: 'IngestionQueue' }),
    ]);
  });

  it("reads Nest's error(message, stack, context) contract", () => {
    const stack = 'Error: boom\n    at handler (file.js:1:1)';
    logger.error('request failed', stack, 'ExceptionsHandler');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        msg: 'request failed',
        stack,
        context: 'ExceptionsHandler',
      }),
    ]);
  });

  it('serializes an Error and merges an object message', () => {
    logger.warn(new Error('disk full'), 'LogMirror');
    logger.warn({ job: 'probe', outcome: 'failed' });
    expect(lines[0]).toMatchObject({
      level: 40,
      context: 'LogMirror',
      err: { message: 'disk full' },
    });
    expect(lines[1]).toMatchObject({ level: 40, job: 'probe', outcome: 'failed' });
  });

  it('writes nothing below the configured level', () => {
    logger.debug('noise', 'Scheduler');
    expect(lines).toEqual([]);
  });
});
