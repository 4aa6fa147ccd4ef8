import { hash } from 'node:crypto';
import type { ClientBase } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { ChainEventType } from './chain-hash.js';
import type { ChainVerification } from './chain-verifier.js';
import { CopyRowReader, decodeCopyField, type CopyRow } from './copy-text.js';

/** The selected columns, in order. */
const Field = {
  Sequence: 0,
  Timestamp: 1,
  Type: 2,
  Module: 3,
  Payload: 4,
  Signature: 5,
  PreviousHash: 6,
  Hash: 7,
} as const;
type Field = (typeof Field)[keyof typeof Field];
const FIELD_COUNT = 8;
/** The fields the preimage is made of (all but the sequence and the hash). */
const PREIMAGE_FIELDS: Field[] = [
  Field.PreviousHash,
  Field.Module,
  Field.Payload,
  Field.Signature,
  Field.Type,
  Field.Timestamp,
];

/** The pieces of SPEC §5's preimage between the fields, as `canonicalEvent` writes them. */
const PREIMAGE = {
  module: Buffer.from('{"module":"'),
  payload: Buffer.from('","payload":'),
  signature: Buffer.from(',"signature":"'),
  type: Buffer.from('","type":"'),
  close: Buffer.from('"}'),
};
const PREIMAGE_OVERHEAD = Object.values(PREIMAGE).reduce((total, part) => total + part.length, 0);

/**
 * Bytes a JSON string may hold as is: `JSON.stringify` leaves them unchanged, so quoting the raw
 * bytes gives the same text. Quote, backslash and control characters are escaped by it.
 */
const JSON_VERBATIM = new Uint8Array(256).map((_, byte) =>
  byte >= 0x20 && byte !== 0x22 && byte !== 0x5c ? 1 : 0,
);

/**
 * Verifies the entries with sequences `from..to` by reading them with `COPY` and hashing the
 * raw bytes: the preimage is assembled from the row's own bytes, so an entry costs one SHA-256
 * and no JavaScript string but the recomputed hash. A row the fast path cannot vouch for (escaped
 * bytes, a string JSON would escape, a wrong sequence, link or hash) is decoded and handed to
 * `verification.add`, which applies the reference checks and reports the break exactly.
 */
export async function walkChainRangeByCopy(
  client: ClientBase,
  range: { from: number; to: number },
  verification: ChainVerification,
  onProgress: (entries: number) => void = () => undefined,
): Promise<void> {
  if (!Number.isSafeInteger(range.from) || !Number.isSafeInteger(range.to)) {
    throw new Error(`not a range of sequences: ${range.from}..${range.to}`);
  }
  let scratch = Buffer.allocUnsafe(64 * 1024);
  let sinceProgress = 0;

  const checkRow = (row: CopyRow): void => {
    const sequence = readSequence(row);
    const intact =
      !row.escaped &&
      sequence === verification.nextSequence &&
      textEquals(row, Field.PreviousHash, verification.lastHash) &&
      isVerbatimJsonString(row, Field.Module) &&
      isVerbatimJsonString(row, Field.Signature) &&
      isVerbatimJsonString(row, Field.Type);
    let recomputed: string | undefined;
    if (intact) {
      const size = preimageSize(row);
      if (size > scratch.length) scratch = Buffer.allocUnsafe(size * 2);
      recomputed = hash('sha256', writePreimage(row, scratch), 'hex');
    }
    if (recomputed !== undefined && textEquals(row, Field.Hash, recomputed)) {
      verification.addIntact(sequence, recomputed);
    } else {
      verification.add(decodeEntry(row));
    }
    if (++sinceProgress === 10_000) {
      onProgress(sinceProgress);
      sinceProgress = 0;
    }
  };

  const reader = new CopyRowReader(FIELD_COUNT, checkRow);
  const stream = client.query(
    copyTo(
      `COPY (SELECT sequence, entry_timestamp, type, module, payload, signature, previous_hash, hash
         FROM chain_entries WHERE sequence BETWEEN ${range.from} AND ${range.to} ORDER BY sequence)
       TO STDOUT`,
    ),
  );
  // Flowing mode: an async iterator over the same stream made the walk twice as slow (it stops
  // reading whenever the stream's small buffer is full, and the server waits meanwhile).
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        stream.destroy(error as Error);
      }
    });
    stream.once('error', reject);
    stream.once('end', resolve);
  });
  reader.end();
  onProgress(sinceProgress);
}

function readSequence(row: CopyRow): number {
  let value = 0;
  for (let at = row.starts[Field.Sequence]; at < row.ends[Field.Sequence]; at += 1) {
    const digit = row.bytes[at] - 0x30;
    if (digit < 0 || digit > 9) return Number(decodeCopyField(row, Field.Sequence));
    value = value * 10 + digit;
  }
  return value;
}

function isVerbatimJsonString(row: CopyRow, field: Field): boolean {
  const { bytes } = row;
  for (let at = row.starts[field]; at < row.ends[field]; at += 1) {
    if (JSON_VERBATIM[bytes[at]] === 0) return false;
  }
  return true;
}

function preimageSize(row: CopyRow): number {
  let size = PREIMAGE_OVERHEAD;
  for (const field of PREIMAGE_FIELDS) size += row.ends[field] - row.starts[field];
  return size;
}

/** `previous_hash + JCS(event) + timestamp` (SPEC §5) into `target`, from the row's bytes. */
function writePreimage(row: CopyRow, target: Buffer): Buffer {
  const { bytes, starts, ends } = row;
  let at = copyBytes(bytes, starts[Field.PreviousHash], ends[Field.PreviousHash], target, 0);
  at = copyBytes(PREIMAGE.module, 0, PREIMAGE.module.length, target, at);
  at = copyBytes(bytes, starts[Field.Module], ends[Field.Module], target, at);
  at = copyBytes(PREIMAGE.payload, 0, PREIMAGE.payload.length, target, at);
  at = copyBytes(bytes, starts[Field.Payload], ends[Field.Payload], target, at);
  at = copyBytes(PREIMAGE.signature, 0, PREIMAGE.signature.length, target, at);
  at = copyBytes(bytes, starts[Field.Signature], ends[Field.Signature], target, at);
  at = copyBytes(PREIMAGE.type, 0, PREIMAGE.type.length, target, at);
  at = copyBytes(bytes, starts[Field.Type], ends[Field.Type], target, at);
  at = copyBytes(PREIMAGE.close, 0, PREIMAGE.close.length, target, at);
  at = copyBytes(bytes, starts[Field.Timestamp], ends[Field.Timestamp], target, at);
  return target.subarray(0, at);
}

/**
 * `source[start, end)` into `target` at `at`; returns the end. Short runs are copied in a loop:
 * `Buffer#copy` validates its arguments on every call, which costs more than a few bytes do.
 */
function copyBytes(source: Buffer, start: number, end: number, target: Buffer, at: number): number {
  if (end - start > 64) return at + source.copy(target, at, start, end);
  for (let from = start; from < end; from += 1) target[at++] = source[from];
  return at;
}

/** Whether field `field` holds exactly the ASCII `text` (a hash), without decoding it. */
function textEquals(row: CopyRow, field: Field, text: string): boolean {
  const { bytes } = row;
  const start = row.starts[field];
  if (row.ends[field] - start !== text.length) return false;
  for (let index = 0; index < text.length; index += 1) {
    if (bytes[start + index] !== text.charCodeAt(index)) return false;
  }
  return true;
}

function decodeEntry(row: CopyRow) {
  const text = (field: Field) => decodeCopyField(row, field) ?? '';
  return {
    sequence: Number(text(Field.Sequence)),
    timestamp: text(Field.Timestamp),
    type: text(Field.Type) as ChainEventType,
    module: text(Field.Module),
    canonicalPayload: text(Field.Payload),
    signature: text(Field.Signature),
    previousHash: text(Field.PreviousHash),
    hash: text(Field.Hash),
  };
}
