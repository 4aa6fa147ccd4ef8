import { createPublicKey } from 'node:crypto';
import request from 'supertest';
import { verifyCheckpoint } from '../src/provenance/checkpoint-note.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../src/provenance/merkle.js';
import { verifyReceipt } from '../src/provenance/tlog-proof.js';
import {
  appendHeartbeats,
  signCheckpointNow,
  startTestBridge,
  type TestBridge,
} from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { tokenFor } from './support/requests.js';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

/** SPEC §5a over HTTP: proofs, receipts and tiles that verify with the checkpoint key alone. */
describe('Merkle proofs, receipts and tiles', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  const auditor = `Bearer ${tokenFor(['auditor'])}`;
  const api = () => request(bridge.app.getHttpServer());
  const get = (path: string) => api().get(path).set('Authorization', auditor);

  const append = (count: number) => appendHeartbeats(bridge, keys.privateKeyPem, count);
  const signNow = () => signCheckpointNow(bridge);

  beforeAll(async () => {
    db = await createTestDatabase('proofs');
    keys = createTestKeys();
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: { CHECKPOINT_FRESHNESS_MS: '0', CHECKPOINT_EVERY_ENTRIES: '0' },
    });
  }, 180_000);

  afterAll(async () => {
    await bridge?.close();
    await db?.drop();
  });

  it('answers 404 before any checkpoint, 400 for missing or malformed parameters', async () => {
    expect((await get('/provenance/proof/inclusion?sequence=1')).status).toBe(404);
    expect((await get('/provenance/receipt/1')).status).toBe(404);
    expect((await get('/tlog/checkpoint')).status).toBe(404);
    const missing = await get('/provenance/proof/inclusion');
    expect(missing.status).toBe(400);
    // A question about the log, not an attack: answered, never counted as a security rejection.
    expect(missing.body).toMatchObject({ status: 'rejected', reason: 'invalid_parameter' });
    expect((await get('/provenance/receipt/1')).body).toMatchObject({ reason: 'not_found' });
    expect((await get('/provenance/proof/inclusion?sequence=x')).status).toBe(400);
    expect((await get('/provenance/proof/consistency?from=1')).status).toBe(400);
    expect((await get('/tlog/tile/0/1')).status).toBe(400);
  });

  it('serves inclusion proofs of every entry that verify against the signed root', async () => {
    await append(11);
    const checkpoint = await signNow();
    const { public_key: publicKey } = (await get('/provenance/checkpoint-key')).body as {
      public_key: string;
    };
    const signedCheckpoint = verifyCheckpoint(checkpoint.note, createPublicKey(publicKey));
    expect(signedCheckpoint.rootHash).toBe(checkpoint.root_hash);
    for (let sequence = 1; sequence <= 11; sequence += 1) {
      const { body, status } = await get(`/provenance/proof/inclusion?sequence=${sequence}`);
      expect(status).toBe(200);
      const entry = (await get(`/provenance/entries/${sequence}`)).body as { hash: string };
      expect(body).toEqual({
        sequence,
        size: 11,
        leaf_index: sequence - 1,
        leaf_hash: leafHash(hex(entry.hash)).toString('hex'),
        proof: expect.any(Array),
        checkpoint: (await get('/provenance/checkpoint')).body,
      });
      const proof = (body.proof as string[]).map(hex);
      const root = hex(signedCheckpoint.rootHash!);
      expect(() =>
        verifyInclusion(sequence - 1, 11, hex(body.leaf_hash), proof, root),
      ).not.toThrow();
    }
    expect((await get('/provenance/proof/inclusion?sequence=12')).status).toBe(400);
    expect((await get('/provenance/proof/inclusion?sequence=1&size=7')).status).toBe(404);
  });

  it('proves each checkpoint consistent with the next', async () => {
    const first = await signNow();
    await append(6);
    const second = await signNow();
    const { body } = await get(
      `/provenance/proof/consistency?from=${first.length}&to=${second.length}`,
    );
    expect(body).toEqual({ from: 11, to: 17, proof: expect.any(Array) });
    expect(() =>
      verifyConsistency(
        11,
        17,
        hex(first.root_hash!),
        hex(second.root_hash!),
        (body.proof as string[]).map(hex),
      ),
    ).not.toThrow();
    const older = await get('/provenance/proof/inclusion?sequence=3&size=11');
    expect(older.body.checkpoint.length).toBe(11);
    expect((await get('/provenance/proof/consistency?from=17&to=11')).status).toBe(400);
    expect((await get('/provenance/proof/consistency?from=1&to=18')).status).toBe(404);
  });

  it('serves a C2SP tlog-proof receipt that verifies offline with the key alone', async () => {
    const { body: key } = await get('/provenance/checkpoint-key');
    const response = await get('/provenance/receipt/5');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toMatch(/^c2sp\.org\/tlog-proof@v1\nindex 4\n([A-Za-z0-9+/]{43}=\n)+\n/);
    const entry = (await get('/provenance/entries/5')).body as { hash: string };
    const verified = verifyReceipt(response.text, entry.hash, createPublicKey(key.public_key));
    expect(verified).toMatchObject({ sequence: 5, checkpoint: { length: 17 } });
    const other = (await get('/provenance/entries/6')).body as { hash: string };
    expect(() => verifyReceipt(response.text, other.hash, createPublicKey(key.public_key))).toThrow(
      'does not lead to the root',
    );
  });

  it('serves the C2SP tlog-tiles checkpoint and hash tiles', async () => {
    const latest = (await get('/provenance/checkpoint')).body as { note: string; length: number };
    const note = await get('/tlog/checkpoint');
    expect(note.text).toBe(latest.note);
    const tile = await get('/tlog/tile/0/000.p/17').buffer(true);
    expect(tile.status).toBe(200);
    expect(tile.headers['content-type']).toBe('application/octet-stream');
    const body = tile.body as Buffer;
    expect(body.length).toBe(17 * 32);
    for (let sequence = 1; sequence <= 17; sequence += 1) {
      const entry = (await get(`/provenance/entries/${sequence}`)).body as { hash: string };
      expect(body.subarray((sequence - 1) * 32, sequence * 32)).toEqual(leafHash(hex(entry.hash)));
    }
    expect((await get('/tlog/tile/0/000.p/18')).status).toBe(404);
    expect((await get('/tlog/tile/0/000')).status).toBe(404);
    expect((await get('/tlog/tile/1/000.p/1')).status).toBe(404);
    expect((await get('/tlog/tile/0/x000/000.p/1')).status).toBe(200);
  });
});
