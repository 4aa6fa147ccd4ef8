import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, type JsonObject } from '../src/common/canonical-json.js';
import { isPayloadSignatureValid } from '../src/client/payload-signer.js';
import { runCompiledCli } from './support/chain-cli.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { buildService } from './support/server-process.js';

describe('npm run sign -- --key', () => {
  let keys: TestKeys;
  let workDir: string;
  let payloadFile: string;
  const sign = (args: string[], keysDir = keys.dir) =>
    runCompiledCli('sign', ['--payload', payloadFile, ...args], { KEYS_DIR: keysDir });

  beforeAll(() => {
    buildService();
    keys = createTestKeys();
    workDir = mkdtempSync(join(tmpdir(), 'sign-cli-'));
    payloadFile = join(workDir, 'reading.json');
    writeFileSync(payloadFile, '{"module":"module-a","data":{"temperature":21.5}}');
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('finds a bare file name missing from the current folder in KEYS_DIR', async () => {
    const result = await sign(['--key', 'private.pem']);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as { payload: JsonObject; signature: string };
    const publicKey = createPublicKey(readFileSync(join(keys.dir, 'public.pem'), 'utf8'));
    expect(isPayloadSignatureValid(publicKey, canonicalJson(body.payload), body.signature)).toBe(
      true,
    );
  });

  it('says so when given the public key', async () => {
    const result = await sign(['--key', join(keys.dir, 'public.pem')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${join(keys.dir, 'public.pem')} is a public key; sign needs the private key`,
    );
    expect(result.stderr).not.toContain('DECODER');
  });

  it('names the missing key and how to make one', async () => {
    const emptyKeys = mkdtempSync(join(tmpdir(), 'sign-cli-keys-'));
    const result = await sign([], emptyKeys);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `Cannot read the signing key ${join(emptyKeys, 'private.pem')} (ENOENT); ` +
        'run npm run keys:generate to create KEYS_DIR/private.pem, or pass --key PATH\n',
    );
    rmSync(emptyKeys, { recursive: true, force: true });
  });
});
