/**
 * The benchmark's baseline: the same work as `POST /core/update` without the framework — token
 * check (remembering verified tokens, as the service does), body shape, signature over the
 * canonical bytes, freshness, then nonce + chain entry + bucket row in one transaction by the
 * same `ingest_events` call (`appendBatchVia`, which `ChainRepository.appendBatch` uses too), with
 * group commit. What the service costs beyond this is what NestJS, Express, TypeORM and the
 * service's extras cost.
 *
 * Env: PORT, DATABASE_URL, JWT_SECRET, PUBLIC_KEY_FILE, MAX_CLOCK_SKEW_SECONDS (default 300).
 */
import { createPublicKey, createSecretKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import jsonwebtoken from 'jsonwebtoken';
import pg from 'pg';
import { canonicalJson, type JsonObject } from '../src/common/canonical-json.js';
import { appendBatchVia, type AppendedRow } from '../src/provenance/chain-append.js';

const BODY_LIMIT = 256 * 1024;
const MAX_BATCH = 256;
const skewMs = Number(process.env.MAX_CLOCK_SKEW_SECONDS ?? 300) * 1000;
const secret = createSecretKey(Buffer.from(process.env.JWT_SECRET!, 'utf8'));
const publicKey = createPublicKey(readFileSync(process.env.PUBLIC_KEY_FILE!));
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });

interface Pending {
  module: string;
  nonce: string;
  signedAt: Date;
  canonicalPayload: string;
  signature: string;
  resolve(answer: [number, object]): void;
}

/** Verified tokens by their text: their roles and `exp`. */
const verifiedTokens = new Map<string, { roles: unknown; exp: number }>();

let waiting: Pending[] = [];
let draining = false;

function answer(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

const reject = (reason: string, status: number): [number, object] => [
  status,
  { status: 'rejected', reason },
];

async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(request: IncomingMessage): Promise<[number, object]> {
  if (request.method !== 'POST' || request.url !== '/core/update') return reject('not_found', 404);
  const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return reject('missing_token', 401);
  let known = verifiedTokens.get(token);
  if (!known || Math.floor(Date.now() / 1000) >= known.exp) {
    try {
      known = jsonwebtoken.verify(token, secret, {
        algorithms: ['HS256'],
        issuer: 'core-bucket-bridge',
      }) as { roles: unknown; exp: number };
    } catch {
      return reject('invalid_token', 401);
    }
    verifiedTokens.set(token, known);
  }
  const { roles } = known;
  if (!Array.isArray(roles) || !roles.some((role) => role === 'module' || role === 'admin'))
    return reject('forbidden_role', 403);

  const text = await readBody(request);
  if (text === undefined) return reject('payload_too_large', 413);
  let body: { payload?: JsonObject; signature?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return reject('malformed_request', 400);
  }
  const payload = body.payload;
  const { signature } = body;
  if (
    !payload ||
    typeof signature !== 'string' ||
    typeof payload.module !== 'string' ||
    !/^[A-Za-z0-9._-]{1,64}$/.test(payload.module) ||
    typeof payload.nonce !== 'string' ||
    !/^[A-Za-z0-9_-]{16,128}$/.test(payload.nonce) ||
    typeof payload.timestamp !== 'string' ||
    typeof payload.data !== 'object'
  ) {
    return reject('malformed_request', 400);
  }
  const canonicalPayload = canonicalJson(payload);
  if (!verify('sha256', Buffer.from(canonicalPayload), publicKey, Buffer.from(signature, 'base64')))
    return reject('invalid_signature', 401);
  const signedAt = new Date(payload.timestamp);
  if (!(Math.abs(Date.now() - signedAt.getTime()) <= skewMs)) return reject('stale_timestamp', 401);

  return new Promise((resolve) => {
    waiting.push({
      module: payload.module as string,
      nonce: payload.nonce as string,
      signedAt,
      canonicalPayload,
      signature,
      resolve,
    });
    if (!draining) void drain();
  });
}

async function drain(): Promise<void> {
  draining = true;
  while (waiting.length > 0) {
    const batch = waiting.slice(0, MAX_BATCH);
    waiting = waiting.slice(MAX_BATCH);
    try {
      await commit(batch);
    } catch {
      batch.forEach((pending) => pending.resolve(reject('store_unavailable', 503)));
    }
  }
  draining = false;
}

async function commit(batch: Pending[]): Promise<void> {
  const outcomes = await appendBatchVia(
    async (sql, parameters) => (await pool.query<AppendedRow>(sql, parameters)).rows,
    batch.map((pending) => ({
      type: 'update',
      module: pending.module,
      nonce: pending.nonce,
      nonceExpiresAt: new Date(pending.signedAt.getTime() + skewMs + 60_000),
      signedAt: pending.signedAt,
      canonicalPayload: pending.canonicalPayload,
      signature: pending.signature,
    })),
  );
  outcomes.forEach((outcome, index) =>
    batch[index].resolve(
      'accepted' in outcome
        ? [
            201,
            {
              status: 'accepted',
              sequence: outcome.accepted.sequence,
              hash: outcome.accepted.hash,
              previous_hash: outcome.accepted.previousHash,
              received_at: outcome.accepted.timestamp,
            },
          ]
        : reject('replay_detected', 409),
    ),
  );
}

const server = createServer((request, response) => {
  handle(request).then(
    ([status, body]) => answer(response, status, body),
    () => answer(response, 500, { status: 'error' }),
  );
});
server.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.stdout.write('baseline ready\n'),
);
process.once('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
