import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyFiles } from '../../src/security/key-files.js';
import { VECTORS_DIR } from './vectors.js';

export interface TestKeys {
  dir: string;
  privateKeyPem: string;
}

/** A keys directory holding the shared vectors' pair as `public.pem`/`private.pem` plus a checkpoint key. */
export function createTestKeys(): TestKeys {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-keys-'));
  mkdirSync(join(dir, 'modules'));
  copyFileSync(join(VECTORS_DIR, 'test-public.pem'), join(dir, 'public.pem'));
  copyFileSync(join(VECTORS_DIR, 'test-private.pem'), join(dir, 'private.pem'));
  generateKeyFiles(dir, false); // adds checkpoint.pem, keeps the vectors' pair
  return { dir, privateKeyPem: readFileSync(join(dir, 'private.pem'), 'utf8') };
}
