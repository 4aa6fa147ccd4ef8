import { CONFIG_ENV_NAMES, loadConfig } from './app-config.js';

describe('CONFIG_ENV_NAMES', () => {
  it('lists exactly the variables loadConfig reads', () => {
    const read = new Set<string>();
    const env = new Proxy<Record<string, string | undefined>>(
      {},
      {
        get: (_target, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    loadConfig(env, '/srv/bridge');
    expect([...read].sort()).toEqual([...CONFIG_ENV_NAMES].sort());
  });
});
