import { existsSync } from 'node:fs';
import { loadConfig } from '../config/app-config.js';
import { generateKeyFiles, keyPaths } from '../security/key-files.js';
import { fail, parseCli, runCli } from './cli-support.js';

const USAGE = `Usage: npm run keys:generate [-- --force]

Writes KEYS_DIR/private.pem + public.pem (RSA 2048, module signing pair) and
KEYS_DIR/checkpoint.pem (Ed25519, the service's checkpoint key). Refuses to replace
existing keys unless --force is given.`;

runCli(() => {
  const flags = parseCli(
    { force: { type: 'boolean', default: false }, help: { type: 'boolean' } },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  const { keysDir } = loadConfig();
  const paths = keyPaths(keysDir);
  const existing = [paths.privateKey, paths.publicKey, paths.checkpointKey].filter((path) =>
    existsSync(path),
  );
  if (existing.length > 0 && !flags.force) {
    fail(
      `Refusing to overwrite existing keys: ${existing.join(', ')}\nRun again with --force to replace them.`,
      1,
    );
  }
  const result = generateKeyFiles(keysDir, Boolean(flags.force));
  result.written.forEach((path) => console.log(`wrote ${path}`));
});
