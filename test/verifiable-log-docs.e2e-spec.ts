import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import {
  appendHeartbeats,
  signCheckpointNow,
  startTestBridge,
  type TestBridge,
} from './support/bridge.js';
import { runCompiledCli, type CliResult } from './support/chain-cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { tokenFor } from './support/requests.js';
import { buildService } from './support/server-process.js';

/** The `npm run …` commands of docs/verifiable-log.md, as written there. */
const DOC_COMMANDS = readFileSync('docs/verifiable-log.md', 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('npm run '));

/**
 * docs/verifiable-log.md promises that its commands work on the saved API answers it names. Runs
 * each one (compiled, as `npm run` does), then again on forged files, which must be refused.
 */
describe('docs/verifiable-log.md commands', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let workDir: string;
  const auditor = `Bearer ${tokenFor(['auditor'])}`;
  const api = () => request(bridge.app.getHttpServer());
  const get = (path: string) => api().get(path).set('Authorization', auditor);
  const save = (name: string, text: string) => writeFileSync(join(workDir, name), text);

  const append = (count: number) => appendHeartbeats(bridge, keys.privateKeyPem, count);
  const signNow = () => signCheckpointNow(bridge);

  /** Runs a documented command with its file arguments taken from the work directory. */
  function run(command: string): Promise<CliResult> {
    const [, , script, , ...args] = command.split(' ');
    const name = script.replace(':', '-');
    const paths = args.map((arg) => (/\.(txt|json|pem)$/.test(arg) ? join(workDir, arg) : arg));
    return runCompiledCli(name, paths, {
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      KEYS_DIR: keys.dir,
      LOG_DIR: 'none',
    });
  }

  beforeAll(async () => {
    buildService();
    db = await createTestDatabase('verifiable_log_docs');
    keys = createTestKeys();
    workDir = mkdtempSync(join(tmpdir(), 'verifiable-log-'));
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: { CHECKPOINT_FRESHNESS_MS: '0', CHECKPOINT_EVERY_ENTRIES: '0' },
    });
    await append(6);
    const old = await signNow();
    save('checkpoint-old.json', JSON.stringify((await get('/provenance/checkpoint')).body));
    await append(7);
    const latest = await signNow();
    save('checkpoint-new.json', JSON.stringify((await get('/provenance/checkpoint')).body));
    save('checkpoint-public.pem', (await get('/provenance/checkpoint-key')).body.public_key);
    save('receipt.txt', (await get('/provenance/receipt/5')).text);
    save('entry.json', JSON.stringify((await get('/provenance/entries/5')).body));
    const consistency = await get(
      `/provenance/proof/consistency?from=${old.length}&to=${latest.length}`,
    );
    save('consistency.json', JSON.stringify(consistency.body));
  }, 180_000);

  afterAll(async () => {
    await bridge?.close();
    await db?.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('documents three commands', () => {
    expect(DOC_COMMANDS.map((command) => command.split(' ')[2])).toEqual([
      'proof:verify',
      'proof:verify',
      'chain:verify',
    ]);
  });

  it.each(DOC_COMMANDS)('%s', async (command) => {
    const result = await run(command);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/receipt valid|consistent|Merkle root [0-9a-f]{64}/);
  });

  it('refuses a receipt for another entry, an altered entry, a forged proof, a foreign key', async () => {
    const [receiptCommand, consistencyCommand] = DOC_COMMANDS;
    save('entry.json', JSON.stringify((await get('/provenance/entries/6')).body));
    expect((await run(receiptCommand)).code).toBe(1);
    const entry = (await get('/provenance/entries/5')).body as { payload: { status: string } };
    save('entry.json', JSON.stringify({ ...entry, payload: { ...entry.payload, status: 'x' } }));
    expect((await run(receiptCommand)).stderr).toContain('hash to');
    save('entry.json', JSON.stringify(entry));

    const consistency = readFileSync(join(workDir, 'consistency.json'), 'utf8');
    const { proof } = JSON.parse(consistency) as { proof: string[] };
    const flipped = `${proof[0][0] === '0' ? '1' : '0'}${proof[0].slice(1)}`;
    save('consistency.json', consistency.replace(proof[0], flipped));
    expect((await run(consistencyCommand)).stderr).toContain('refused');
    save('consistency.json', consistency);

    const pinned = readFileSync(join(workDir, 'checkpoint-public.pem'), 'utf8');
    const other = createPrivateKey(readFileSync(join(createTestKeys().dir, 'checkpoint.pem')));
    save(
      'checkpoint-public.pem',
      createPublicKey(other).export({ type: 'spki', format: 'pem' }) as string,
    );
    expect((await run(receiptCommand)).stderr).toContain('no signature of this key');
    expect((await run(consistencyCommand)).code).toBe(1);
    save('checkpoint-public.pem', pinned);
    expect((await run(consistencyCommand)).code).toBe(0);
  });
});
