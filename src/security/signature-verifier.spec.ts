import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../common/canonical-json.js';
import { loadConfig } from '../config/app-config.js';
import { KeyStore } from './key-store.js';
import { MAX_KEYS_PER_MODULE, readVerificationKeys } from './verification-keys.js';
import { signPayload } from '../client/payload-signer.js';
import { canonicalSignature, SignatureVerifier } from './signature-verifier.js';
import { loadVectors, readVectorFile, VECTORS_DIR } from '../../test/support/vectors.js';
import { waitFor } from '../../test/support/wait.js';

describe('SignatureVerifier with the KeyStore', () => {
  const vectors = loadVectors();
  let keysDir: string;
  let keyStore: KeyStore;
  let verifier: SignatureVerifier;

  beforeEach(() => {
    keysDir = mkdtempSync(join(tmpdir(), 'bridge-keystore-'));
    mkdirSync(join(keysDir, 'modules'));
    copyFileSync(join(VECTORS_DIR, 'test-public.pem'), join(keysDir, 'public.pem'));
    keyStore = new KeyStore(loadConfig({ KEYS_DIR: keysDir }));
    keyStore.onModuleInit();
    verifier = new SignatureVerifier(keyStore);
  });

  afterEach(() => {
    keyStore.onModuleDestroy();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it.each(vectors.chain.map((entry) => [entry.sequence, entry] as const))(
    'verifies the Python signature of vector entry %i over its canonical payload',
    (_sequence, entry) => {
      expect(() =>
        verifier.assertValid(entry.module, canonicalJson(entry.payload), entry.signature),
      ).not.toThrow();
    },
  );

  it('reproduces the Python signature byte for byte (PKCS#1 v1.5 is deterministic)', () => {
    const entry = vectors.chain[0];
    expect(signPayload(readVectorFile('test-private.pem'), entry.payload).signature).toBe(
      entry.signature,
    );
  });

  it('refuses a signature over different bytes', () => {
    const entry = vectors.chain[0];
    const altered = canonicalJson({ ...entry.payload, nonce: 'ffffffffffffffffffffffffffffffff' });
    expect(() => verifier.assertValid(entry.module, altered, entry.signature)).toThrow(
      expect.objectContaining({ reason: 'invalid_signature' }),
    );
  });

  it('uses only the module key once keys/modules/<module>.pem exists (after a reload)', () => {
    const entry = vectors.chain[0];
    const own = newRsaPair();
    writeFileSync(join(keysDir, 'modules', `${entry.module}.pem`), own.publicPem);
    keyStore.reload('test');
    expect(() =>
      verifier.assertValid(entry.module, canonicalJson(entry.payload), entry.signature),
    ).toThrow(expect.objectContaining({ reason: 'invalid_signature' }));
    const ownSignature = signPayload(own.privateKey, entry.payload).signature;
    expect(() =>
      verifier.assertValid(entry.module, canonicalJson(entry.payload), ownSignature),
    ).not.toThrow();
    // Other modules still verify with public.pem.
    const other = vectors.chain[2];
    expect(() =>
      verifier.assertValid(other.module, canonicalJson(other.payload), other.signature),
    ).not.toThrow();
  });

  it('picks up a module key file written while running, without a signal', async () => {
    const own = newRsaPair();
    writeFileSync(join(keysDir, 'modules', 'module-new.pem'), own.publicPem);
    await waitFor(() => keyStore.moduleKeyCount() === 1, 'the key file to be picked up');
    expect(keyStore.moduleKeyCount()).toBe(1);
  });

  it('refuses every module when no key is configured', () => {
    rmSync(join(keysDir, 'public.pem'));
    keyStore.reload('test');
    const entry = vectors.chain[0];
    expect(keyStore.hasKeys()).toBe(false);
    expect(() =>
      verifier.assertValid(entry.module, canonicalJson(entry.payload), entry.signature),
    ).toThrow(expect.objectContaining({ reason: 'invalid_signature' }));
  });

  it('keeps the previous keys when a key file is broken', () => {
    writeFileSync(join(keysDir, 'public.pem'), 'not a key');
    keyStore.reload('test');
    const entry = vectors.chain[0];
    expect(() =>
      verifier.assertValid(entry.module, canonicalJson(entry.payload), entry.signature),
    ).not.toThrow();
  });
});

describe('several keys per module (rotation)', () => {
  const payload = {
    module: 'module-r',
    nonce: 'rotation-nonce-0001',
    timestamp: '2026-12-03T08:00:00Z',
    data: {},
  };
  let keysDir: string;
  let keyStore: KeyStore;
  let verifier: SignatureVerifier;
  const moduleDir = () => join(keysDir, 'modules', 'module-r');
  const accepts = (privateKey: KeyObject) => () =>
    verifier.assertValid(
      'module-r',
      canonicalJson(payload),
      signPayload(privateKey, payload).signature,
    );

  beforeEach(() => {
    keysDir = mkdtempSync(join(tmpdir(), 'bridge-keystore-'));
    mkdirSync(join(keysDir, 'modules'));
    keyStore = new KeyStore(loadConfig({ KEYS_DIR: keysDir }));
    keyStore.onModuleInit();
    verifier = new SignatureVerifier(keyStore);
  });

  afterEach(() => {
    keyStore.onModuleDestroy();
    rmSync(keysDir, { recursive: true, force: true });
  });

  it('accepts any key of modules/<module>/ and modules/<module>.pem, newest name first', () => {
    const [flat, older, newer] = [newRsaPair(), newRsaPair(), newRsaPair()];
    writeFileSync(join(keysDir, 'modules', 'module-r.pem'), flat.publicPem);
    mkdirSync(moduleDir());
    writeFileSync(join(moduleDir(), '2026-06-01.pem'), older.publicPem);
    writeFileSync(join(moduleDir(), '2026-12-01.pem'), newer.publicPem);
    writeFileSync(join(moduleDir(), 'README'), 'not a key, not read');
    keyStore.reload('test');
    expect(keyStore.keysFor('module-r').map(({ file }) => file)).toEqual([
      'modules/module-r/2026-12-01.pem',
      'modules/module-r/2026-06-01.pem',
      'modules/module-r.pem',
    ]);
    for (const pair of [flat, older, newer]) expect(accepts(pair.privateKey)).not.toThrow();
    expect(accepts(newRsaPair().privateKey)).toThrow(
      expect.objectContaining({ reason: 'invalid_signature' }),
    );
  });

  it(`refuses more than ${MAX_KEYS_PER_MODULE} keys for one module and keeps the keys it had`, () => {
    mkdirSync(moduleDir());
    const first = newRsaPair();
    writeFileSync(join(moduleDir(), 'key-0.pem'), first.publicPem);
    keyStore.reload('test');
    for (let n = 1; n <= MAX_KEYS_PER_MODULE; n += 1) {
      writeFileSync(join(moduleDir(), `key-${n}.pem`), newRsaPair().publicPem);
    }
    expect(() => readVerificationKeys(keysDir)).toThrow(
      `module module-r has ${MAX_KEYS_PER_MODULE + 1} keys`,
    );
    expect(readVerificationKeys(keysDir, Infinity).perModule.get('module-r')).toHaveLength(
      MAX_KEYS_PER_MODULE + 1,
    );
    keyStore.reload('test');
    expect(keyStore.keysFor('module-r')).toHaveLength(1);
    expect(accepts(first.privateKey)).not.toThrow();
  });

  it('follows a module key folder made while running: a key added to it later is picked up', async () => {
    mkdirSync(moduleDir());
    writeFileSync(join(moduleDir(), '2026-06-01.pem'), newRsaPair().publicPem);
    await waitFor(() => keyStore.moduleKeyCount() === 1, 'the new folder and its key');
    // Only a watch on the folder itself sees this: modules/ does not change.
    const added = newRsaPair();
    writeFileSync(join(moduleDir(), '2026-12-01.pem'), added.publicPem);
    await waitFor(() => keyStore.keysFor('module-r').length === 2, 'the key added to the folder');
    expect(accepts(added.privateKey)).not.toThrow();
  });
});

function newRsaPair(): { publicPem: string; privateKey: KeyObject } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privateKey };
}

describe('canonicalSignature', () => {
  // 4 bytes: two data characters beyond a full group, so two padding characters and 4 spare bits.
  const standard = Buffer.from([0xfb, 0xff, 0xbf, 0xfe]).toString('base64'); // '+/+//g=='

  it.each([
    ['standard base64', standard],
    ['standard base64 without padding', '+/+//g'],
    ['base64url', '-_-__g'],
    ['base64url with padding', '-_-__g=='],
  ])('maps %s to padded standard base64', (_name, text) => {
    expect(canonicalSignature(text)).toBe(standard);
  });

  it.each([
    ['mixed alphabets', '+/-__g=='],
    ['non-zero trailing bits', '+/+//h=='],
    ['one padding character missing', '+/+//g='],
    ['a padding character too many', '+/+//g==='],
    ['characters of neither alphabet', '+/+/ /g=='],
  ])('refuses %s', (_name, text) => {
    expect(canonicalSignature(text)).toBeUndefined();
  });
});
