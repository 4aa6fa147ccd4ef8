import { ConfigError, loadConfig } from './app-config.js';

describe('loadConfig', () => {
  it('applies the SPEC §9 defaults', () => {
    const config = loadConfig({}, '/srv/bridge');
    expect(config).toMatchObject({
      environment: 'development',
      port: 8000,
      databaseUrl: undefined,
      jwtIssuer: 'core-bucket-bridge',
      keysDir: '/srv/bridge/keys',
      maxClockSkewSeconds: 300,
      logDir: '/srv/bridge/logs',
      bridgeUrl: 'http://localhost:8000',
      bodyLimitBytes: 262144,
      nonceCacheSize: 5000,
    });
  });

  it('reports every problem in one error', () => {
    const attempt = () =>
      loadConfig({
        PORT: 'eighty',
        MAX_CLOCK_SKEW_SECONDS: '-1',
        DATABASE_URL: 'mysql://x',
        NODE_ENV: 'staging',
      });
    expect(attempt).toThrow(ConfigError);
    const problems = (() => {
      try {
        attempt();
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    })();
    expect(problems.map((problem) => problem.split(' ')[0]).sort()).toEqual([
      'DATABASE_URL',
      'MAX_CLOCK_SKEW_SECONDS',
      'NODE_ENV',
      'PORT',
    ]);
  });

  it('refuses production without a JWT secret or with a short one', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      /JWT_SECRET is required in production/,
    );
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'secret' })).toThrow(
      /at least 32 characters/,
    );
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).logDir,
    ).toBeUndefined();
  });

  it('turns the file mirrors off with LOG_DIR=none', () => {
    expect(loadConfig({ LOG_DIR: 'none' }).logDir).toBeUndefined();
  });
});
