import type { Server } from 'node:http';
import { connect } from 'node:net';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { tokenFor } from './support/requests.js';

/** Far more than the server may read of a body it refused. */
const SEND_AT_MOST = 256 * 1024 * 1024;
/** How long the server has to close the connection once the client stopped sending. */
const CLOSE_WITHIN_MS = 5000;

interface Outcome {
  /** The raw answer text. */
  answer: string;
  /** Body bytes the client managed to write before the server closed the connection. */
  sent: number;
  closedByServer: boolean;
}

/**
 * Sends `head` and then body bytes (`pace`: as fast as the socket takes them, or a kilobyte every
 * 20 ms), never ending the body, until the server closes the connection or `SEND_AT_MOST` is out.
 */
function sendEndlessBody(
  port: number,
  head: string,
  options: { chunked: boolean; pace: 'flood' | 'trickle' },
): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const data = Buffer.alloc(options.pace === 'flood' ? 64 * 1024 : 1024, 'a');
    const piece = options.chunked
      ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
      : data;
    let answer = '';
    let sent = 0;
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => (answer += text));
    socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server has closed
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ answer, sent, closedByServer: true });
    });
    const giveUp = () => {
      timer = setTimeout(() => {
        socket.destroy();
        resolve({ answer, sent, closedByServer: false });
      }, CLOSE_WITHIN_MS);
    };
    const pump = () => {
      while (!closed && sent < SEND_AT_MOST) {
        sent += data.length;
        const more = socket.write(piece);
        if (options.pace === 'trickle') return void setTimeout(pump, 20);
        if (!more) return void socket.once('drain', pump);
      }
      if (!closed) giveUp();
    };
    socket.write(head, pump);
  });
}

function head(path: string, headers: Record<string, string>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `POST ${path} HTTP/1.1\r\nHost: bridge\r\nContent-Type: application/json\r\n${lines.join('')}\r\n`;
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
}

describe('bodies are not drained for free (BODY_LIMIT_BYTES)', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let port: number;
  const token = tokenFor(['module']);

  beforeAll(async () => {
    db = await createTestDatabase('body_limits');
    keys = createTestKeys();
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
    port = Number(new URL(bridge.baseUrl).port);
  });
  afterAll(async () => {
    await bridge.close();
    await db.drop();
  });

  it('sets the server timeouts deliberately, not to Node defaults', () => {
    const server = bridge.app.getHttpServer() as Server;
    expect({
      headers: server.headersTimeout,
      request: server.requestTimeout,
      keepAlive: server.keepAliveTimeout,
    }).toEqual({ headers: 10_000, request: 30_000, keepAlive: 65_000 });
  });

  it('answers a 10 GB declaration without a token 401 and closes instead of reading it', async () => {
    const outcome = await sendEndlessBody(
      port,
      head('/core/update', { 'Content-Length': '10000000000' }),
      { chunked: false, pace: 'flood' },
    );
    expect(statusOf(outcome.answer)).toBe(401);
    expect(outcome.answer).toMatch(/"reason":"missing_token"/);
    expect(outcome.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(outcome.closedByServer).toBe(true);
    expect(outcome.sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('closes on a client that trickles a declared 10 GB after its 401', async () => {
    const outcome = await sendEndlessBody(
      port,
      head('/core/update', { 'Content-Length': '10000000000' }),
      { chunked: false, pace: 'trickle' },
    );
    expect(statusOf(outcome.answer)).toBe(401);
    expect(outcome.closedByServer).toBe(true);
    // A kilobyte every 20 ms: the server closed within seconds, not at a request timeout.
    expect(outcome.sent).toBeLessThan(256 * 1024);
  });

  it('answers a 10 GB declaration with a valid token 413 at once and closes', async () => {
    const outcome = await sendEndlessBody(
      port,
      head('/core/update', { 'Content-Length': '10000000000', Authorization: `Bearer ${token}` }),
      { chunked: false, pace: 'flood' },
    );
    expect(statusOf(outcome.answer)).toBe(413);
    expect(outcome.answer).toMatch(/"reason":"payload_too_large"/);
    expect(outcome.answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(outcome.closedByServer).toBe(true);
    expect(outcome.sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('answers an endless chunked body 413 once it crosses the limit, and closes', async () => {
    const outcome = await sendEndlessBody(
      port,
      head('/core/update', { 'Transfer-Encoding': 'chunked', Authorization: `Bearer ${token}` }),
      { chunked: true, pace: 'flood' },
    );
    expect(statusOf(outcome.answer)).toBe(413);
    expect(outcome.answer).toMatch(/"reason":"payload_too_large"/);
    expect(outcome.closedByServer).toBe(true);
    expect(outcome.sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('closes a connection whose unread body follows a route that takes none', async () => {
    const outcome = await sendEndlessBody(
      port,
      head('/bucket/status', { 'Transfer-Encoding': 'chunked', Authorization: `Bearer ${token}` }),
      { chunked: true, pace: 'flood' },
    );
    // POST on a GET route: Nest's 404, answered before the body, then the connection is cut.
    expect(statusOf(outcome.answer)).toBe(404);
    expect(outcome.closedByServer).toBe(true);
    expect(outcome.sent).toBeLessThan(32 * 1024 * 1024);
  });
});
