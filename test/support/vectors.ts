import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../../src/common/canonical-json.js';

/** The independent Python-made vectors (SPEC §5): ../shared/vectors unless TEST_VECTORS_DIR says otherwise. */
export const VECTORS_DIR =
  process.env.TEST_VECTORS_DIR ?? join(process.cwd(), '..', 'shared', 'vectors');

export interface VectorEntry {
  sequence: number;
  timestamp: string;
  type: 'update' | 'heartbeat';
  module: string;
  payload: JsonObject;
  signature: string;
  previous_hash: string;
  hash: string;
  canonical_payload: string;
  canonical_event: string;
}

export interface Vectors {
  jwt: { secret: string; issuer: string; token: string; claims: JsonObject };
  genesis_previous_hash: string;
  chain: VectorEntry[];
}

export function loadVectors(): Vectors {
  return JSON.parse(readFileSync(join(VECTORS_DIR, 'vectors.json'), 'utf8')) as Vectors;
}

export function readVectorFile(name: string): string {
  return readFileSync(join(VECTORS_DIR, name), 'utf8');
}
