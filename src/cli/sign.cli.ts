import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JsonObject } from '../common/canonical-json.js';
import { loadConfig } from '../config/app-config.js';
import { keyPaths } from '../security/key-files.js';
import { signPayload } from '../client/payload-signer.js';
import { fail, parseCli, runCli } from './cli-support.js';

const USAGE = `Usage: npm run sign -- --payload <file.json | -> [--key <private.pem>] [--fresh]

Prints a request body {"payload":...,"signature":...} ready for curl. The signature is
RSASSA-PKCS1-v1_5/SHA-256 over the RFC 8785 bytes of the payload. --fresh fills in a new
nonce and the current timestamp. The key defaults to KEYS_DIR/private.pem.`;

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
  const keyFile = flags.key ?? keyPaths(loadConfig().keysDir).privateKey;
  console.log(JSON.stringify(signPayload(readFileSync(keyFile, 'utf8'), payload)));
});
