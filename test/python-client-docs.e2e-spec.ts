import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { TEST_JWT_SECRET } from './support/requests.js';

/** docs/python-client.md's client, exactly as printed (its first ```python block). */
function documentedPythonClient(): string {
  const doc = readFileSync(join(process.cwd(), 'docs/python-client.md'), 'utf8');
  const block = /```python\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/python-client.md has no ```python block');
  return block[1];
}

/** A Python 3 with PyJWT and cryptography (Debian: python3-jwt, python3-cryptography). */
function pythonWithClientLibraries(): string {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import jwt, cryptography'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  throw new Error(
    'no python3 with PyJWT and cryptography found (Debian: apt-get install python3-jwt python3-cryptography)',
  );
}

describe('the documented Python client', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let workDir: string;

  beforeAll(async () => {
    db = await createTestDatabase('python_client');
    keys = createTestKeys();
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: keys.dir });
    // The client reads keys/private.pem relative to where it runs, as from the repository root.
    workDir = mkdtempSync(join(tmpdir(), 'python-client-'));
    mkdirSync(join(workDir, 'keys'));
    copyFileSync(join(keys.dir, 'private.pem'), join(workDir, 'keys', 'private.pem'));
  });

  afterAll(async () => {
    await bridge.close();
    await db.drop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('signs, posts and is accepted, and its entry is in the chain', async () => {
    // Asynchronously: the bridge answering the client runs in this very process.
    const { stdout: output } = await promisify(execFile)(
      pythonWithClientLibraries(),
      ['-c', documentedPythonClient()],
      {
        cwd: workDir,
        env: { PATH: process.env.PATH, JWT_SECRET: TEST_JWT_SECRET, BRIDGE_URL: bridge.baseUrl },
        encoding: 'utf8',
      },
    );
    const [status, body] = [output.slice(0, 3), JSON.parse(output.slice(4))];
    expect(status).toBe('201');
    expect(body).toMatchObject({ status: 'accepted', sequence: 1 });
    const [entry] = await db.query('SELECT module, hash FROM chain_entries WHERE sequence = 1');
    expect(entry).toEqual({ module: 'module-a', hash: body.hash });
  });
});
