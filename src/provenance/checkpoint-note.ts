import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Signed checkpoints of the chain, as C2SP `tlog-checkpoint` bodies in C2SP `signed-note`
 * envelopes (the format of Go's `golang.org/x/mod/sumdb/note`), so existing tlog tooling reads
 * them. A checkpoint note is:
 *
 *     <origin>\n
 *     <length, decimal>\n
 *     <RFC 9162 Merkle root of the first `length` entries: standard base64 of its 32 bytes>\n
 *     <signing time: RFC 3339 UTC, e.g. 2026-11-26T10:00:00.000Z>\n      (extension line)
 *     head <chain head hash of entry `length`, lowercase hex>\n          (extension line)
 *     \n
 *     — <key name> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>\n
 *
 * The signature covers the UTF-8 bytes of the four body lines including the last newline. The key
 * id is the first 4 bytes of SHA-256(key name || "\n" || 0x01 || raw 32-byte public key).
 */

/**
 * What a checkpoint states: the log `origin` had `length` entries, whose Merkle tree has root
 * `rootHash` and whose last entry has hash `headHash`.
 */
export interface Checkpoint {
  origin: string;
  length: number;
  /**
   * Lowercase hex of the RFC 9162 tree root (SPEC §5a). Absent only in checkpoints signed before
   * the tree existed, whose third line was the head hash; those are read, never written.
   */
  rootHash?: string;
  /** Lowercase hex, as in the chain. */
  headHash: string;
  timestamp: string;
}

/**
 * A note or checkpoint that cannot be parsed (`malformed`) or is not validly signed by the
 * expected key (`unsigned`).
 */
export class CheckpointNoteError extends Error {
  constructor(
    message: string,
    readonly kind: 'malformed' | 'unsigned' = 'malformed',
  ) {
    super(message);
    this.name = 'CheckpointNoteError';
  }
}

const ED25519_ALGORITHM = 0x01;
const KEY_ID_BYTES = 4;
const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;
const KEY_NAME = /^[^\s+]+$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HASH_HEX = /^[0-9a-f]{64}$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const HEAD_LINE = /^head ([0-9a-f]{64})$/;

/** The five body lines of a checkpoint, each ending in a newline. */
export function checkpointText(checkpoint: Checkpoint): string {
  if (!HASH_HEX.test(checkpoint.headHash)) throw new CheckpointNoteError('head hash must be hex');
  if (!HASH_HEX.test(checkpoint.rootHash ?? '')) {
    throw new CheckpointNoteError('root hash must be hex');
  }
  const root = Buffer.from(checkpoint.rootHash!, 'hex').toString('base64');
  return (
    `${checkpoint.origin}\n${checkpoint.length}\n${root}\n${checkpoint.timestamp}\n` +
    `head ${checkpoint.headHash}\n`
  );
}

/** Reads the body lines written by `checkpointText`; refuses anything else. */
export function parseCheckpointText(text: string): Checkpoint {
  const lines = text.split('\n');
  // Four body lines: a checkpoint of before the tree (third line: the head hash).
  const legacy = lines.length === 5 && lines[4] === '';
  if (!legacy && (lines.length !== 6 || lines[5] !== '')) {
    throw new CheckpointNoteError(
      'a checkpoint body has five lines: origin, length, root hash, timestamp, head hash',
    );
  }
  const [origin, lengthText, hashBase64, timestamp, headLine] = lines;
  if (!KEY_NAME.test(origin)) throw new CheckpointNoteError(`invalid origin line "${origin}"`);
  const length = Number(lengthText);
  if (!DECIMAL.test(lengthText) || !Number.isSafeInteger(length)) {
    throw new CheckpointNoteError(`invalid length line "${lengthText}"`);
  }
  const hash = Buffer.from(hashBase64, 'base64');
  if (hash.length !== 32 || hash.toString('base64') !== hashBase64) {
    throw new CheckpointNoteError(`invalid root hash line "${hashBase64}" (base64 of 32 bytes)`);
  }
  if (!RFC3339_UTC.test(timestamp) || Number.isNaN(Date.parse(timestamp))) {
    throw new CheckpointNoteError(`invalid timestamp line "${timestamp}" (RFC 3339, UTC)`);
  }
  if (legacy) return { origin, length, headHash: hash.toString('hex'), timestamp };
  const head = HEAD_LINE.exec(headLine);
  if (!head) throw new CheckpointNoteError(`invalid head line "${headLine}" (head <64 hex>)`);
  return { origin, length, rootHash: hash.toString('hex'), headHash: head[1], timestamp };
}

/** The 32 raw bytes of an Ed25519 public key. */
function rawEd25519(publicKey: KeyObject): Buffer {
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new CheckpointNoteError('checkpoint keys are Ed25519 keys');
  }
  const { x } = publicKey.export({ format: 'jwk' });
  return Buffer.from(x!, 'base64url');
}

/** The signed-note key id: SHA-256(name || "\n" || 0x01 || raw public key), first 4 bytes. */
export function noteKeyId(keyName: string, publicKey: KeyObject): Buffer {
  return createHash('sha256')
    .update(`${keyName}\n`)
    .update(Buffer.from([ED25519_ALGORITHM]))
    .update(rawEd25519(publicKey))
    .digest()
    .subarray(0, KEY_ID_BYTES);
}

/** The verifier key string of Go's note package: `<name>+<hex key id>+<base64(0x01 || key)>`. */
export function noteVerifierKey(keyName: string, publicKey: KeyObject): string {
  const typedKey = Buffer.concat([Buffer.from([ED25519_ALGORITHM]), rawEd25519(publicKey)]);
  return `${keyName}+${noteKeyId(keyName, publicKey).toString('hex')}+${typedKey.toString('base64')}`;
}

/** Signs `text` (non-empty, ending in a newline, no blank line) as a signed note. */
export function signNote(text: string, keyName: string, privateKey: KeyObject): string {
  if (!text.endsWith('\n') || text.includes('\n\n') || text === '\n') {
    throw new CheckpointNoteError('note text must end in a newline and contain no blank line');
  }
  if (!KEY_NAME.test(keyName)) throw new CheckpointNoteError(`invalid key name "${keyName}"`);
  const signature = sign(null, Buffer.from(text, 'utf8'), privateKey);
  const keyId = noteKeyId(keyName, createPublicKey(privateKey));
  const blob = Buffer.concat([keyId, signature]).toString('base64');
  return `${text}\n\u2014 ${keyName} ${blob}\n`;
}

/** A checkpoint verification key, or several (the current key and those it replaced). */
export type NoteKeys = KeyObject | readonly KeyObject[];

/**
 * Returns the text of `note` once a signature line of one of `keys` verifies over it; `publicKey`
 * is that key. A line names its key by name and key id, and the id hashes the public key, so a
 * rotated key never matches a line of the key it replaced. Lines of other keys are ignored, as
 * signed-note verifiers do; a line of a given key that does not verify, or no line of any given
 * key at all, is refused.
 */
export function openNote(
  note: string,
  keys: NoteKeys,
): { text: string; keyName: string; publicKey: KeyObject } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) {
    throw new CheckpointNoteError('not a signed note: no blank line before the signatures');
  }
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const candidates = Array.isArray(keys) ? keys : [keys as KeyObject];
  let sawOwnKey = false;
  for (const line of lines) {
    const match = SIGNATURE_LINE.exec(line);
    if (!match) throw new CheckpointNoteError(`malformed signature line "${line}"`);
    const [, keyName, blobBase64] = match;
    const blob = Buffer.from(blobBase64, 'base64');
    if (blob.length <= KEY_ID_BYTES) throw new CheckpointNoteError('signature line too short');
    // Non-canonical base64 (stray padding bits) decodes to the same bytes: refuse the variant.
    if (blob.toString('base64') !== blobBase64) {
      throw new CheckpointNoteError(`signature line is not canonical base64 "${line}"`);
    }
    const keyId = blob.subarray(0, KEY_ID_BYTES);
    for (const publicKey of candidates) {
      if (!keyId.equals(noteKeyId(keyName, publicKey))) continue;
      sawOwnKey = true;
      if (verify(null, Buffer.from(text, 'utf8'), publicKey, blob.subarray(KEY_ID_BYTES))) {
        return { text, keyName, publicKey };
      }
    }
  }
  throw new CheckpointNoteError(
    sawOwnKey
      ? 'the signature does not verify: the note was altered or not signed by this key'
      : `the note carries no signature of ${candidates.length === 1 ? 'this key' : 'any of these keys'}`,
    'unsigned',
  );
}

/**
 * The first of `keys` that a signature line of `note` names (by key name and key id), without
 * checking the signature: which key to show beside a checkpoint the service signed itself.
 */
export function namedNoteKey(note: string, keys: readonly KeyObject[]): KeyObject | undefined {
  const signatures = note.slice(note.lastIndexOf('\n\n') + 2).split('\n');
  for (const line of signatures) {
    const match = SIGNATURE_LINE.exec(line);
    if (!match) continue;
    const keyId = Buffer.from(match[2], 'base64').subarray(0, KEY_ID_BYTES);
    const named = keys.find((key) => keyId.equals(noteKeyId(match[1], key)));
    if (named) return named;
  }
  return undefined;
}

/** The checkpoint note, signed with the key named after the origin. */
export function signCheckpoint(checkpoint: Checkpoint, privateKey: KeyObject): string {
  return signNote(checkpointText(checkpoint), checkpoint.origin, privateKey);
}

/** The checkpoint a note states, once its signature verifies with one of `keys`. */
export function verifyCheckpoint(note: string, keys: NoteKeys): Checkpoint {
  return parseCheckpointText(openNote(note, keys).text);
}
