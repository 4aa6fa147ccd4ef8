import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonObject } from '../common/canonical-json.js';
import { loadConfig } from '../config/app-config.js';
import { keyPaths } from '../security/key-files.js';
import { signPayload } from '../client/payload-signer.js';
import { fail, parseCli, runCli } from './cli-support.js';

const USAGE = `Usage: npm run sign -- --payload <file.json | -> [--key <private.pem>] [--fresh]

Prints a request body {"payload":...,"signature":...} ready for curl. The signature is
RSASSA-PKCS1-v1_5/SHA-256 over the RFC 8785 bytes of the payload. --fresh fills in a new
nonce and the current timestamp. The key defaults to KEYS_DIR/private.pem; a bare file name
that is not in the current folder is looked up in KEYS_DIR.`;

runCli(() => {
  const flags = parseCli(
    {
      payload: { type: 'string' },
      key: { type: 'string' },
      fresh: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  if (!flags.payload) fail(`--payload is required\n\n${USAGE}`);
  let payload: JsonObject;
  try {
    payload = JSON.parse(
      readFileSync(flags.payload === '-' ? 0 : flags.payload, 'utf8'),
    ) as JsonObject;
  } catch (error) {
    fail(`Cannot read a JSON payload from ${flags.payload}: ${(error as Error).message}`, 1);
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    fail('The payload must be a JSON object', 1);
  if (flags.fresh) {
    payload.nonce = randomBytes(16).toString('hex');
    payload.timestamp = new Date().toISOString();
  }
  const { keysDir } = loadConfig();
  console.log(
    JSON.stringify(signPayload(readPrivateKey(signingKeyFile(flags.key, keysDir)), payload)),
  );
});

/** `--key`: a path as given, except a bare file name missing here, which is KEYS_DIR's. */
function signingKeyFile(key: string | undefined, keysDir: string): string {
  if (key === undefined) return keyPaths(keysDir).privateKey;
  return key.includes('/') || existsSync(key) ? key : join(keysDir, key);
}

function readPrivateKey(file: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    fail(
      `Cannot read the signing key ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        'run npm run keys:generate to create KEYS_DIR/private.pem, or pass --key PATH',
    );
  }
  if (/-----BEGIN (RSA )?PUBLIC KEY-----/.test(pem)) {
    fail(
      `${file} is a public key; sign needs the private key (KEYS_DIR/private.pem, or the module's own private key)`,
    );
  }
  try {
    return createPrivateKey(pem);
  } catch (error) {
    fail(`${file} is not a PEM private key: ${(error as Error).message}`);
  }
}
