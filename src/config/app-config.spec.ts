import { ConfigError, loadConfig, parseVerifyOnlySecrets } from './app-config.js';

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
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: PRODUCTION_SECRET }).logDir,
    ).toBeUndefined();
  });

  it('refuses a production JWT secret made of few or repeated characters', () => {
    for (const weak of ['a'.repeat(32), 'ab'.repeat(32), 'password-password-password-passw']) {
      expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: weak })).toThrow(
        /JWT_SECRET has too little entropy/,
      );
    }
    // 32 random hex digits (openssl rand -hex 16) pass; development takes any secret.
    expect(() =>
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: '935cf6e9274660d8aa1e099bc2f3d320' }),
    ).not.toThrow();
    expect(loadConfig({ JWT_SECRET: 'a'.repeat(32) }).jwtSecret).toBe('a'.repeat(32));
  });

  it('reads JWT_VERIFY_ONLY_SECRETS split at commas or newlines, without blanks, repeats or JWT_SECRET', () => {
    expect(parseVerifyOnlySecrets(undefined)).toEqual([]);
    expect(parseVerifyOnlySecrets(' old-1 ,\nold-2\n\nold-1,current', 'current')).toEqual([
      'old-1',
      'old-2',
    ]);
    expect(
      loadConfig({ JWT_SECRET: 'current', JWT_VERIFY_ONLY_SECRETS: 'old-1,old-2' })
        .jwtVerifyOnlySecrets,
    ).toEqual(['old-1', 'old-2']);
  });

  it('holds every verify-only JWT secret to the production rules, and at most four of them', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: PRODUCTION_SECRET };
    expect(() =>
      loadConfig({
        ...production,
        JWT_VERIFY_ONLY_SECRETS: `935cf6e9274660d8aa1e099bc2f3d320,short`,
      }),
    ).toThrow(/JWT_VERIFY_ONLY_SECRETS entry 2 must be at least 32 characters/);
    expect(() => loadConfig({ ...production, JWT_VERIFY_ONLY_SECRETS: 'ab'.repeat(32) })).toThrow(
      /JWT_VERIFY_ONLY_SECRETS entry 1 has too little entropy/,
    );
    const five = ['1', '2', '3', '4', '5'].map((n) => `935cf6e9274660d8aa1e099bc2f3d32${n}`);
    expect(() => loadConfig({ ...production, JWT_VERIFY_ONLY_SECRETS: five.join(',') })).toThrow(
      /JWT_VERIFY_ONLY_SECRETS lists 5 secrets, at most 4/,
    );
    expect(
      loadConfig({ ...production, JWT_VERIFY_ONLY_SECRETS: five.slice(0, 4).join('\n') })
        .jwtVerifyOnlySecrets,
    ).toHaveLength(4);
  });

  it('reads TRUST_PROXY as hops or proxy addresses, never as "trust anyone"', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, loopback' }).trustProxy).toEqual([
      '10.0.0.0/8',
      'loopback',
    ]);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY must be/);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(() =>
      loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }),
    ).toThrow(/HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS/);
  });

  it('turns the file mirrors off with LOG_DIR=none', () => {
    expect(loadConfig({ LOG_DIR: 'none' }).logDir).toBeUndefined();
  });
});

/** A production-grade secret for the tests (random, 48 base64 characters). */
const PRODUCTION_SECRET = 'q3VZ0x5mJf8Qe2LrT9wYc1NbH6uKdA4sG7pXoE0iWzRtMnBv';
