import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  publicKeyPem,
  readCheckpointPublicKeys,
  readPreviousCheckpointKeys,
} from './checkpoint-key.js';

describe('checkpoint public keys', () => {
  let dir: string;
  const ed25519 = () => generateKeyPairSync('ed25519');

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-checkpoint-keys-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every key of a file that holds several, in file order', () => {
    const [current, previous] = [ed25519(), ed25519()];
    const file = join(dir, 'pinned.pem');
    writeFileSync(file, publicKeyPem(current.publicKey) + publicKeyPem(previous.publicKey));
    const keys = readCheckpointPublicKeys(file);
    expect(keys.map(publicKeyPem)).toEqual([
      publicKeyPem(current.publicKey),
      publicKeyPem(previous.publicKey),
    ]);
  });

  it('refuses a file without a PEM block, and a key that is not Ed25519', () => {
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, 'not a key\n');
    expect(() => readCheckpointPublicKeys(empty)).toThrow('no PEM block');
    const rsa = join(dir, 'rsa.pem');
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    writeFileSync(rsa, publicKey.export({ type: 'spki', format: 'pem' }));
    expect(() => readCheckpointPublicKeys(rsa)).toThrow('is not an Ed25519 key');
  });

  it('reads KEYS_DIR/checkpoint-previous/*.pem, last name first; none without the folder', () => {
    expect(readPreviousCheckpointKeys(dir)).toEqual([]);
    const [older, newer] = [ed25519(), ed25519()];
    mkdirSync(join(dir, 'checkpoint-previous'));
    writeFileSync(
      join(dir, 'checkpoint-previous', '2026-06-01.pem'),
      publicKeyPem(older.publicKey),
    );
    writeFileSync(
      join(dir, 'checkpoint-previous', '2026-12-01.pem'),
      publicKeyPem(newer.publicKey),
    );
    writeFileSync(join(dir, 'checkpoint-previous', 'notes.txt'), 'not read');
    expect(readPreviousCheckpointKeys(dir).map(publicKeyPem)).toEqual([
      publicKeyPem(newer.publicKey),
      publicKeyPem(older.publicKey),
    ]);
  });
});
