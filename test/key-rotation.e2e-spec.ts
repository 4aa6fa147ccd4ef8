import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import jsonwebtoken from 'jsonwebtoken';
import request from 'supertest';
import { readCheckpointPublicKeys } from '../src/provenance/checkpoint-key.js';
import { verifyCheckpoint } from '../src/provenance/checkpoint-note.js';
import { KeyStore } from '../src/security/key-store.js';
import { Role } from '../src/security/role.js';
import { TokenService } from '../src/security/token.service.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { documentedBlock } from './support/docs.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { signed, TEST_JWT_SECRET, tokenFor, updatePayload } from './support/requests.js';
import { buildService } from './support/server-process.js';
import { waitFor } from './support/wait.js';

const DOC = 'docs/key-rotation.md';
const MODULE = 'module-a';
/** Files the documented commands write in the repository root (git-ignored); removed after. */
const WRITTEN = [
  'checkpoint-before.json',
  'checkpoint-after.json',
  'checkpoint-keys.pem',
  'consistency.json',
];

/**
 * docs/key-rotation.md, step by step, against a running service on one database: each `sh` block
 * runs as printed; a restart the page asks for is a rolling one (the next replica is serving
 * before the previous one stops), as Kubernetes does it.
 */
describe('key rotation without downtime (docs/key-rotation.md)', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let work: string;
  let envFile: string;
  let bridge: TestBridge;
  /** The module's new pair: made on its side, only the public half is handed over. */
  const nextPair = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  /** The service's settings, as `ENV_FILE` holds them. */
  const settings = (): Record<string, string> =>
    Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );

  const startReplica = () =>
    startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      // Checkpoints only when the test asks for one.
      env: {
        ...settings(),
        CHECKPOINT_FRESHNESS_MS: '0',
        CHECKPOINT_EVERY_ENTRIES: '0',
        CHECKPOINT_INTERVAL_MINUTES: '0',
      },
    });

  /** Every replica restarted, one after the other: the new one serves before the old one stops. */
  const rollingRestart = async () => {
    const next = await startReplica();
    await bridge.close();
    bridge = next;
  };

  /** Runs the page's block marked `marker` in the repository root. */
  const step = async (marker: string, extra: Record<string, string> = {}) => {
    const host = new URL(bridge.baseUrl).host;
    const script = documentedBlock(DOC, 'sh', marker).replaceAll('localhost:8000', host);
    const { stdout } = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        ENV_FILE: envFile,
        KEYS_DIR: keys.dir,
        DATABASE_URL: db.url,
        LOG_LEVEL: 'silent',
        ...extra,
      },
      encoding: 'utf8',
    });
    return stdout;
  };

  const statusWith = async (token: string) =>
    (await request(bridge.baseUrl).get('/bucket/status').set('Authorization', `Bearer ${token}`))
      .status;

  const admin = () => tokenFor([Role.Admin], { secret: settings().JWT_SECRET });

  const update = (privateKeyPem: string) =>
    request(bridge.baseUrl)
      .post('/core/update')
      .set('Authorization', `Bearer ${admin()}`)
      .send(signed(privateKeyPem, updatePayload({ module: MODULE })));

  beforeAll(async () => {
    buildService();
    db = await createTestDatabase('key_rotation');
    keys = createTestKeys();
    work = mkdtempSync(join(tmpdir(), 'bridge-rotation-'));
    envFile = join(work, 'bridge.env');
    writeFileSync(envFile, `JWT_SECRET=${TEST_JWT_SECRET}\n`);
    bridge = await startReplica();
  });

  afterAll(async () => {
    for (const file of WRITTEN) rmSync(file, { force: true });
    await bridge?.close();
    await db?.drop();
    rmSync(work, { recursive: true, force: true });
    rmSync(keys.dir, { recursive: true, force: true });
  });

  describe('1. the JWT secret', () => {
    const replaced = tokenFor([Role.Module], { secret: TEST_JWT_SECRET });
    let next: string;
    let ofNext: string;
    /** Which secret signs the tokens the replica mints (for its automation). */
    const mintedWith = (secret: string) => () =>
      jsonwebtoken.verify(
        bridge.app.get(TokenService).mint({ roles: [Role.Automation], ttlSeconds: 60 }),
        secret,
      );

    it('step 1: tokens of the current and of the next secret are accepted; the current signs', async () => {
      expect(await statusWith(replaced)).toBe(200);
      await step('# jwt 1');
      next = settings().JWT_VERIFY_ONLY_SECRETS;
      expect(next).toMatch(/^[A-Za-z0-9+/]{64}$/);
      ofNext = tokenFor([Role.Module], { secret: next });
      expect(await statusWith(ofNext)).toBe(401); // not before the restart
      await rollingRestart();
      expect(await statusWith(replaced)).toBe(200);
      expect(await statusWith(ofNext)).toBe(200);
      expect(mintedWith(TEST_JWT_SECRET)).not.toThrow();
    });

    it('step 2: the next secret signs, tokens of both are accepted', async () => {
      await step('# jwt 2');
      expect(settings()).toMatchObject({
        JWT_SECRET: next,
        JWT_VERIFY_ONLY_SECRETS: TEST_JWT_SECRET,
      });
      await rollingRestart();
      expect(await statusWith(replaced)).toBe(200);
      expect(await statusWith(ofNext)).toBe(200);
      expect(mintedWith(next)).not.toThrow();
      expect(mintedWith(TEST_JWT_SECRET)).toThrow('invalid signature');
    });

    it('step 3: a token of the replaced secret is refused, even one the replica had verified', async () => {
      await step('# jwt 3');
      expect(settings()).toEqual({ JWT_SECRET: next });
      await rollingRestart();
      const refused = await request(bridge.baseUrl)
        .get('/bucket/status')
        .set('Authorization', `Bearer ${replaced}`);
      expect(refused.status).toBe(401);
      expect(refused.body.reason).toBe('invalid_token');
      expect(await statusWith(ofNext)).toBe(200);
    });
  });

  describe("2. a module's key", () => {
    const moduleKeys = () => bridge.app.get(KeyStore).keysFor(MODULE);

    it('switches from the old key to the new one without refusing one request', async () => {
      // The module, sending all along; it signs with public.pem's pair until step 2.
      let signingKey = keys.privateKeyPem;
      let sending = true;
      const answers: number[] = [];
      const sender = (async () => {
        while (sending) answers.push((await update(signingKey)).status);
      })();
      const sent = async (count: number) => {
        const target = answers.length + count;
        await waitFor(() => answers.length >= target, `${count} more updates`);
      };
      await sent(3);

      const newKey = join(work, 'next-public.pem');
      writeFileSync(newKey, nextPair.publicKey);
      await step('# module 1', { MODULE, NEW_KEY: newKey });
      // The reload its log reports: both keys now, the new one first.
      await waitFor(() => moduleKeys().length === 2, 'the replica to load the new key');
      expect(moduleKeys()[0].file).toMatch(/^modules\/module-a\/\d{4}-\d\d-\d\d\.pem$/);
      expect((await update(keys.privateKeyPem)).status).toBe(201);
      expect((await update(nextPair.privateKey)).status).toBe(201);
      await sent(3);

      signingKey = nextPair.privateKey; // step 2: the module switches
      await sent(3);

      await step('# module 3', { MODULE });
      await waitFor(() => moduleKeys().length === 1, 'the replica to drop the old key');
      await sent(3);
      sending = false;
      await sender;

      const old = await update(keys.privateKeyPem);
      expect(old.status).toBe(401);
      expect(old.body.reason).toBe('invalid_signature');
      expect((await update(nextPair.privateKey)).status).toBe(201);
      expect(answers.length).toBeGreaterThanOrEqual(12);
      expect(answers.filter((status) => status !== 201)).toEqual([]);
    });
  });

  describe('3. the checkpoint key', () => {
    const signCheckpoint = async () =>
      (
        await request(bridge.baseUrl)
          .post('/provenance/checkpoint')
          .set('Authorization', `Bearer ${admin()}`)
          .expect(201)
      ).body as { length: number; note: string; public_key: string };
    const publishedKeys = async () =>
      (
        await request(bridge.baseUrl)
          .get('/provenance/checkpoint-key')
          .set('Authorization', `Bearer ${admin()}`)
          .expect(200)
      ).body as { key_id: string; public_key: string; previous_keys: { key_id: string }[] };

    it('signs with the new key, lists the old one, and both checkpoints verify and link', async () => {
      const before = await signCheckpoint();
      writeFileSync('checkpoint-before.json', JSON.stringify(before));
      const oldKey = await publishedKeys();
      expect(oldKey.previous_keys).toEqual([]);

      await step('# checkpoint 1');
      await rollingRestart();
      const newKey = await publishedKeys();
      expect(newKey.key_id).not.toBe(oldKey.key_id);
      expect(newKey.previous_keys).toEqual([
        expect.objectContaining({ key_id: oldKey.key_id, public_key: oldKey.public_key }),
      ]);

      // The chain grows; the service checks the new head against the old key's checkpoint.
      expect((await update(nextPair.privateKey)).status).toBe(201);
      const after = await signCheckpoint();
      writeFileSync('checkpoint-after.json', JSON.stringify(after));
      expect(after.public_key).toBe(newKey.public_key);
      const served = await request(bridge.baseUrl)
        .get(`/provenance/checkpoint/${before.length}`)
        .set('Authorization', `Bearer ${admin()}`);
      expect(served.body.public_key).toBe(oldKey.public_key);

      await step('# checkpoint 2');
      const pinned = readCheckpointPublicKeys('checkpoint-keys.pem');
      expect(pinned).toHaveLength(2);
      expect(() => verifyCheckpoint(before.note, pinned.slice(0, 1))).toThrow('no signature');
      expect(() => verifyCheckpoint(after.note, pinned.slice(1))).toThrow('no signature');

      const output = await step('# checkpoint 3', {
        TOKEN: tokenFor([Role.Auditor], { secret: settings().JWT_SECRET }),
      });
      expect(output).toContain(
        `checkpoint checkpoint-before.json (core-bucket-bridge, length ${before.length}`,
      );
      expect(output).toContain(
        `checkpoint checkpoint-after.json (core-bucket-bridge, length ${after.length}`,
      );
      expect(output).not.toContain('INCONSISTENT');
      expect(output).toContain(`consistent: core-bucket-bridge at size ${after.length}`);
    });
  });
});
