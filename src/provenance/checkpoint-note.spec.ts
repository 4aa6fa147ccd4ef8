import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import {
  checkpointText,
  namedNoteKey,
  noteKeyId,
  noteVerifierKey,
  openNote,
  parseCheckpointText,
  signCheckpoint,
  signNote,
  verifyCheckpoint,
  type Checkpoint,
} from './checkpoint-note.js';

/**
 * The example of Go's golang.org/x/mod/sumdb/note package documentation, an independent
 * signed-note implementation. Ed25519 is deterministic, so signing must reproduce it exactly.
 */
const GO_SIGNER_KEY =
  'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VERIFIER_KEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const GO_NOTE =
  GO_TEXT +
  '\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

/** The Ed25519 private key of a Go signer key string (its base64 part is 0x01 || 32-byte seed). */
function goPrivateKey(signerKey: string): KeyObject {
  const seed = Buffer.from(signerKey.split('+').slice(4).join('+'), 'base64').subarray(1);
  const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({
    key: Buffer.concat([pkcs8Prefix, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

describe('signed notes (C2SP signed-note)', () => {
  const goKey = goPrivateKey(GO_SIGNER_KEY);

  it("reproduces the Go note package's example byte for byte", () => {
    expect(signNote(GO_TEXT, 'PeterNeumann', goKey)).toBe(GO_NOTE);
    expect(noteVerifierKey('PeterNeumann', createPublicKey(goKey))).toBe(GO_VERIFIER_KEY);
    expect(noteKeyId('PeterNeumann', createPublicKey(goKey)).toString('hex')).toBe('c74f20a3');
  });

  it("opens the Go example with the example's public key", () => {
    const publicKey = createPublicKey(goKey);
    expect(openNote(GO_NOTE, publicKey)).toEqual({
      text: GO_TEXT,
      keyName: 'PeterNeumann',
      publicKey,
    });
  });

  it('refuses an altered text, a foreign key and a note without signatures', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(() =>
      openNote(GO_NOTE.replace('cryptography', 'cryptographY'), createPublicKey(goKey)),
    ).toThrow('does not verify');
    expect(() => openNote(GO_NOTE, other)).toThrow('no signature of this key');
    expect(() => openNote(GO_TEXT, createPublicKey(goKey))).toThrow('not a signed note');
  });

  it('ignores signature lines of other keys, as signed-note verifiers do', () => {
    const cosigner = generateKeyPairSync('ed25519');
    const cosigned =
      GO_NOTE + signNote(GO_TEXT, 'Witness', cosigner.privateKey).slice(GO_TEXT.length + 1);
    expect(openNote(cosigned, createPublicKey(goKey)).keyName).toBe('PeterNeumann');
    expect(openNote(cosigned, cosigner.publicKey).keyName).toBe('Witness');
  });
});

describe('checkpoint notes', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const checkpoint: Checkpoint = {
    origin: 'bridge.example.com/prod',
    length: 3,
    rootHash: '5e3f6a1c0b2d4e6f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7',
    headHash: 'e7e13fcd68bdc66635cef5674c7ba3f24e18e0be30950a5a40cba53fa4ad0485',
    timestamp: '2026-11-26T10:00:05.000Z',
  };
  const note = signCheckpoint(checkpoint, privateKey);

  it('writes origin, length, base64 root, timestamp, head hash, a blank line, one signature', () => {
    const [body, signatures] = note.split('\n\n');
    expect(`${body}\n`).toBe(
      'bridge.example.com/prod\n3\nXj9qHAstTm+AkaKzxNXm9wgZKjtMXW5/gJGis8TV5vc=\n2026-11-26T10:00:05.000Z\n' +
        'head e7e13fcd68bdc66635cef5674c7ba3f24e18e0be30950a5a40cba53fa4ad0485\n',
    );
    expect(`${body}\n`).toBe(checkpointText(checkpoint));
    expect(signatures).toMatch(/^— bridge\.example\.com\/prod [A-Za-z0-9+/]{91}=\n$/);
  });

  it('verifies with the public key and gives back every field', () => {
    expect(verifyCheckpoint(note, publicKey)).toEqual(checkpoint);
  });

  it.each([
    ['origin', (n: string) => n.replace('bridge.example.com/prod\n', 'bridge.example.com/test\n')],
    ['length', (n: string) => n.replace('\n3\n', '\n4\n')],
    ['root hash', (n: string) => n.replace('Xj9q', 'Yj9q')],
    ['head hash', (n: string) => n.replace('head e7e1', 'head f7e1')],
    ['timestamp', (n: string) => n.replace('10:00:05.000Z', '10:00:06.000Z')],
    [
      'signature',
      (n: string) => {
        const blob = n.slice(n.lastIndexOf(' ') + 1, -1);
        const bytes = Buffer.from(blob, 'base64');
        bytes[bytes.length - 1] ^= 1;
        return n.replace(blob, bytes.toString('base64'));
      },
    ],
  ])('fails when the %s changes', (_field, alter) => {
    const altered = alter(note);
    expect(altered).not.toBe(note);
    expect(() => verifyCheckpoint(altered, publicKey)).toThrow('does not verify');
  });

  it('still reads the four-line checkpoints signed before the tree (head hash third)', () => {
    const head = Buffer.from(checkpoint.headHash, 'hex').toString('base64');
    expect(
      parseCheckpointText(`${checkpoint.origin}\n3\n${head}\n${checkpoint.timestamp}\n`),
    ).toEqual({
      origin: checkpoint.origin,
      length: 3,
      headHash: checkpoint.headHash,
      timestamp: checkpoint.timestamp,
    });
  });

  it('fails with another key', () => {
    expect(() => verifyCheckpoint(note, generateKeyPairSync('ed25519').publicKey)).toThrow(
      'no signature of this key',
    );
  });

  it('verifies with any of several keys, and names the key that signed (rotation)', () => {
    const replaced = generateKeyPairSync('ed25519');
    const newKey = generateKeyPairSync('ed25519');
    const keys = [newKey.publicKey, replaced.publicKey];
    const before = signCheckpoint(checkpoint, replaced.privateKey);
    const after = signCheckpoint({ ...checkpoint, length: 4 }, newKey.privateKey);
    expect(verifyCheckpoint(before, keys)).toEqual(checkpoint);
    expect(verifyCheckpoint(after, keys).length).toBe(4);
    expect(openNote(before, keys).publicKey).toBe(replaced.publicKey);
    expect(namedNoteKey(before, keys)).toBe(replaced.publicKey);
    expect(namedNoteKey(after, keys)).toBe(newKey.publicKey);
    // Same key name (the origin), different key ids: the ids tell the keys apart.
    expect(noteKeyId(checkpoint.origin, newKey.publicKey)).not.toEqual(
      noteKeyId(checkpoint.origin, replaced.publicKey),
    );
    expect(() => verifyCheckpoint(before, [newKey.publicKey, publicKey])).toThrow(
      'no signature of any of these keys',
    );
    expect(namedNoteKey(before, [newKey.publicKey])).toBeUndefined();
  });

  it('refuses checkpoint bodies it did not write, naming the bad line', () => {
    const head = `head ${'0'.repeat(64)}\n`;
    expect(() => parseCheckpointText('origin\n3\n')).toThrow('has five lines');
    expect(() => parseCheckpointText(`origin\n03\nAAAA\n2026-11-26T10:00:05Z\n${head}`)).toThrow(
      'invalid length line "03"',
    );
    expect(() => parseCheckpointText(`origin\n3\nAAAA\n2026-11-26T10:00:05Z\n${head}`)).toThrow(
      'invalid root hash line',
    );
    const hash = Buffer.alloc(32).toString('base64');
    expect(() => parseCheckpointText(`origin\n3\n${hash}\nyesterday\n${head}`)).toThrow(
      'invalid timestamp line',
    );
    expect(() =>
      parseCheckpointText(`origin\n3\n${hash}\n2026-11-26T10:00:05Z\nhead ${'A'.repeat(64)}\n`),
    ).toThrow('invalid head line');
  });
});
