import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/app-config.js';
import { KeyStore } from '../src/security/key-store.js';
import { VECTORS_DIR } from './support/vectors.js';
import { waitFor } from './support/wait.js';

/**
 * A Secret volume as the kubelet writes it (its AtomicWriter): the files live in a timestamped
 * folder, `..data` links to it, and each key path links through `..data`. An update writes a new
 * folder and swaps `..data` in one rename; the running service must see it.
 */
describe('keys mounted from a Kubernetes Secret volume', () => {
  let volume: string;
  let store: KeyStore | undefined;
  const publicPem = readFileSync(join(VECTORS_DIR, 'test-public.pem'), 'utf8');

  const writePayload = (name: string, files: Record<string, string>) => {
    const dir = join(volume, name);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    symlinkSync(name, join(volume, '..data_tmp'));
    renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
  };

  beforeEach(() => {
    volume = mkdtempSync(join(tmpdir(), 'bridge-secret-volume-'));
    writePayload('..2026_12_02_10_00_00.000000001', { 'public.pem': publicPem });
    symlinkSync('..data/public.pem', join(volume, 'public.pem'));
    symlinkSync('..data/modules', join(volume, 'modules'));
  });

  afterEach(() => {
    store?.onModuleDestroy();
    rmSync(volume, { recursive: true, force: true });
  });

  it('reloads when the kubelet swaps ..data to a payload with a new module key', async () => {
    store = new KeyStore(loadConfig({ KEYS_DIR: volume }));
    store.onModuleInit();
    expect(store.hasKeys()).toBe(true);
    expect(store.moduleKeyCount()).toBe(0);

    writePayload('..2026_12_02_10_05_00.000000002', {
      'public.pem': publicPem,
      'modules/module-a.pem': publicPem,
    });
    await waitFor(() => store!.moduleKeyCount() === 1, 'the module key after the swap', 5_000);
  });

  it('follows a rotation: a second key in modules/<module>/, then the old key gone', async () => {
    writePayload('..2026_12_02_10_05_00.000000002', {
      'public.pem': publicPem,
      'modules/module-a.pem': publicPem,
    });
    store = new KeyStore(loadConfig({ KEYS_DIR: volume }));
    store.onModuleInit();
    expect(store.keysFor('module-a')).toHaveLength(1);

    writePayload('..2026_12_03_08_00_00.000000003', {
      'public.pem': publicPem,
      'modules/module-a.pem': publicPem,
      'modules/module-a/2026-12-03.pem': publicPem,
    });
    await waitFor(() => store!.keysFor('module-a').length === 2, 'both keys', 5_000);

    writePayload('..2026_12_03_09_00_00.000000004', {
      'public.pem': publicPem,
      'modules/module-a/2026-12-03.pem': publicPem,
    });
    await waitFor(() => store!.keysFor('module-a').length === 1, 'the new key alone', 5_000);
    expect(store.keysFor('module-a')[0].file).toBe('modules/module-a/2026-12-03.pem');
  });
});
