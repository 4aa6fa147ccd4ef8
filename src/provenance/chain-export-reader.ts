import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { canonicalJson, type JsonValue } from '../common/canonical-json.js';
import { EVENT_KINDS, isEventKind } from '../common/event-kinds.js';
import type { StoredChainEntry } from './chain-entry.js';

/** A line of an export that is not a chain entry; `lineNumber` counts from 1. */
export class ExportLineError extends Error {
  constructor(
    readonly lineNumber: number,
    problem: string,
  ) {
    super(`line ${lineNumber}: ${problem}`);
    this.name = 'ExportLineError';
  }
}

const KIND_LIST = EVENT_KINDS.map((kind) => `"${kind}"`).join(', ');
const STRING_FIELDS = ['timestamp', 'module', 'signature', 'previous_hash', 'hash'] as const;

/**
 * One line of an export (SPEC §5) as a chain entry. Files written by other tools may order keys
 * differently, so the payload is parsed and canonicalized (RFC 8785) rather than sliced out.
 */
export function parseExportLine(line: string, lineNumber: number): StoredChainEntry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ExportLineError(lineNumber, `not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new ExportLineError(lineNumber, 'not a JSON object');
  if (!Number.isSafeInteger(value.sequence) || (value.sequence as number) < 1) {
    throw new ExportLineError(lineNumber, '"sequence" must be a positive integer');
  }
  for (const field of STRING_FIELDS) {
    if (typeof value[field] !== 'string') {
      throw new ExportLineError(lineNumber, `"${field}" must be a string`);
    }
  }
  if (!isEventKind(value.type)) {
    throw new ExportLineError(lineNumber, `"type" must be one of ${KIND_LIST}`);
  }
  if (!isObject(value.payload)) {
    throw new ExportLineError(lineNumber, '"payload" must be a JSON object');
  }
  let canonicalPayload: string;
  try {
    canonicalPayload = canonicalJson(value.payload as JsonValue);
  } catch (error) {
    throw new ExportLineError(
      lineNumber,
      `"payload" has no canonical form (${(error as Error).message})`,
    );
  }
  return {
    sequence: value.sequence as number,
    timestamp: value.timestamp as string,
    type: value.type,
    module: value.module as string,
    canonicalPayload,
    signature: value.signature as string,
    previousHash: value.previous_hash as string,
    hash: value.hash as string,
  };
}

/** The entries of an export file, read line by line so memory stays bounded. Blank lines are skipped. */
export async function* readExportFile(path: string): AsyncGenerator<StoredChainEntry> {
  const lines = createInterface({
    input: createReadStream(path, { encoding: 'utf8' }),
    crlfDelay: Infinity,
  });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    yield parseExportLine(line, lineNumber);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
