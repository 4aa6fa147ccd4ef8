/**
 * The benchmark's raw floor: `POST /core/update` on `node:http` with no framework. It reads and
 * parses the JSON body and answers a 201 of the service's size, doing no other work, so its CPU per
 * request is what Node's HTTP server alone costs. Env: PORT.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { acceptedAnswer, FLOOR_BODY_LIMIT_BYTES } from './floor-answer.js';

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FLOOR_BODY_LIMIT_BYTES) throw new Error('too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const server = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/core/update') {
    response.writeHead(404).end();
    return;
  }
  readJson(request).then(
    () =>
      response
        .writeHead(201, { 'Content-Type': 'application/json; charset=utf-8' })
        .end(JSON.stringify(acceptedAnswer())),
    () => response.writeHead(400).end(),
  );
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
