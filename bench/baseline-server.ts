/**
 * The benchmark's baseline: the same work as `POST /core/update` without the framework — token
 * check, body shape, signature over the canonical bytes, freshness, then nonce + chain entry +
 * bucket row in one transaction with the same formula and the same group commit. What the
 * service costs beyond this is what NestJS, TypeORM and the service's extras cost.
 *
 * Env: PORT, DATABASE_URL, JWT_SECRET, PUBLIC_KEY_FILE, MAX_CLOCK_SKEW_SECONDS (default 300).
 */
import { createPublicKey, createSecretKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import jsonwebtoken from 'jsonwebtoken';
import pg from 'pg';
import { canonicalJson, type JsonObject } from '../src/common/canonical-json.js';
import { chainHash, GENESIS_HASH } from '../src/provenance/chain-hash.js';

const BODY_LIMIT = 256 * 1024;
const MAX_BATCH = 256;
const CHAIN_LOCK = 0x63686e;
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
  data: JsonObject;
  resolve(answer: [number, object]): void;
}

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
  let roles: unknown;
  try {
    ({ roles } = jsonwebtoken.verify(token, secret, {
      algorithms: ['HS256'],
      issuer: 'core-bucket-bridge',
    }) as { roles: unknown });
  } catch {
    return reject('invalid_token', 401);
  }
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
  const valid = await new Promise<boolean>((resolve) =>
    verify(
      'sha256',
      Buffer.from(canonicalPayload),
      publicKey,
      Buffer.from(signature, 'base64'),
      (error, ok) => resolve(!error && ok),
    ),
  );
  if (!valid) return reject('invalid_signature', 401);
  const signedAt = new Date(payload.timestamp);
  if (!(Math.abs(Date.now() - signedAt.getTime()) <= skewMs)) return reject('stale_timestamp', 401);

  return new Promise((resolve) => {
    waiting.push({
      module: payload.module as string,
      nonce: payload.nonce as string,
      signedAt,
      canonicalPayload,
      signature,
      data: payload.data as JsonObject,
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
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK]);
    const claimed = await client.query<{ nonce: string }>(
      `INSERT INTO nonces (nonce, module, expires_at) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
       ON CONFLICT (nonce) DO NOTHING RETURNING nonce`,
      [
        batch.map((p) => p.nonce),
        batch.map((p) => p.module),
        batch.map((p) => new Date(p.signedAt.getTime() + skewMs + 60_000)),
      ],
    );
    const fresh = new Set(claimed.rows.map((row) => row.nonce));
    const accepted = batch.filter((p) => fresh.delete(p.nonce));
    const head = await client.query<{ sequence: string; hash: string }>(
      'SELECT sequence, hash FROM chain_entries ORDER BY sequence DESC LIMIT 1',
    );
    let sequence = head.rows.length ? Number(head.rows[0].sequence) : 0;
    let previous = head.rows.length ? head.rows[0].hash : GENESIS_HASH;
    const timestamp = new Date().toISOString();
    const entries = accepted.map((p) => {
      const hash = chainHash(
        previous,
        {
          type: 'update',
          module: p.module,
          canonicalPayload: p.canonicalPayload,
          signature: p.signature,
        },
        timestamp,
      );
      const entry = { pending: p, sequence: ++sequence, previous, hash };
      previous = hash;
      return entry;
    });
    if (entries.length > 0) {
      await client.query(
        `INSERT INTO chain_entries (sequence, entry_timestamp, type, module, payload, signature, previous_hash, hash)
         SELECT s, $2, 'update', m, p::json, sig, prev, h FROM unnest($1::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS b(s, m, p, sig, prev, h)`,
        [
          entries.map((e) => e.sequence),
          timestamp,
          entries.map((e) => e.pending.module),
          entries.map((e) => e.pending.canonicalPayload),
          entries.map((e) => e.pending.signature),
          entries.map((e) => e.previous),
          entries.map((e) => e.hash),
        ],
      );
      await client.query(
        `INSERT INTO bucket_events (sequence, type, module, data, signed_at, received_at)
         SELECT s, 'update', m, d::json, sa, $2 FROM unnest($1::bigint[], $3::text[], $4::text[], $5::timestamptz[]) AS b(s, m, d, sa)`,
        [
          entries.map((e) => e.sequence),
          timestamp,
          entries.map((e) => e.pending.module),
          entries.map((e) => JSON.stringify(e.pending.data)),
          entries.map((e) => e.pending.signedAt),
        ],
      );
    }
    await client.query('COMMIT');
    const byNonce = new Map(entries.map((e) => [e.pending, e]));
    for (const pending of batch) {
      const entry = byNonce.get(pending);
      pending.resolve(
        entry
          ? [
              201,
              {
                status: 'accepted',
                sequence: entry.sequence,
                hash: entry.hash,
                previous_hash: entry.previous,
                received_at: timestamp,
              },
            ]
          : reject('replay_detected', 409),
      );
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
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
