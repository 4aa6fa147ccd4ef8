import type { Browser, BrowserContext, Page } from 'playwright-core';
import { jobOf, TEST_PLUGIN_DIRS, writeJobFile } from './support/automation.js';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { ARTIFACTS, launchChromium } from './support/browser.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { buildInsightPage } from './support/insight.js';
import { createTestKeys, type TestKeys } from './support/keys.js';
import { heartbeatPayload, signed, tokenFor, updatePayload } from './support/requests.js';
import { waitFor } from './support/wait.js';
import type { JsonObject } from '../src/common/canonical-json.js';
import { InsightSnapshotService } from '../src/insight/insight-snapshot.service.js';

describe('InsightFlow in a real browser (SPEC §10)', () => {
  let db: TestDatabase;
  let keys: TestKeys;
  let bridge: TestBridge;
  let browser: Browser;
  let bridgeClosed = false;
  const admin = tokenFor(['admin']);

  const post = (path: string, body: unknown, token: string | undefined = admin) =>
    fetch(bridge.baseUrl + path, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
  /** A body whose signature was made over another payload: `invalid_signature`. */
  const badlySigned = (payload: JsonObject) => ({
    ...signed(keys.privateKeyPem, updatePayload()),
    payload,
  });

  const open = async (
    token: string,
    options: { width?: number; height?: number; dark?: boolean } = {},
  ): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
      colorScheme: options.dark ? 'dark' : 'light',
    });
    const page = await context.newPage();
    page.on('request', (request) => {
      if (!request.url().startsWith(bridge.baseUrl))
        throw new Error(`the page asked another host: ${request.url()}`);
    });
    await page.goto(`${bridge.baseUrl}/insight#token=${token}`);
    return { context, page };
  };
  const textOf = (page: Page, selector: string) =>
    page.locator(selector).first().textContent({ timeout: 5000 });
  const shows = (page: Page, selector: string, text: string) =>
    waitFor(
      async () => ((await textOf(page, selector)) ?? '').includes(text),
      `${selector} ∋ ${text}`,
    );

  beforeAll(async () => {
    buildInsightPage();
    db = await createTestDatabase('insight');
    keys = createTestKeys();
    bridge = await startTestBridge({
      databaseUrl: db.url,
      keysDir: keys.dir,
      env: {
        NODE_ID: 'replica-1',
        AUTOMATION_CONFIG: writeJobFile([jobOf('probe', 'probe')]),
        PLUGINS_DIR: TEST_PLUGIN_DIRS,
      },
    });
    browser = await launchChromium();

    // Known traffic: 2 updates and 2 heartbeats accepted; 1 replay, 2 bad signatures, 1 bad token.
    const first = signed(keys.privateKeyPem, updatePayload({ module: 'module-a' }));
    const statuses = [
      (await post('/core/update', first)).status,
      (await post('/core/update', signed(keys.privateKeyPem, updatePayload()))).status,
      (
        await post(
          '/core/heartbeat',
          signed(keys.privateKeyPem, heartbeatPayload({ module: 'module-a', node: 'node-1' })),
        )
      ).status,
      (
        await post(
          '/core/heartbeat',
          signed(keys.privateKeyPem, heartbeatPayload({ module: 'module-b', node: 'node-2' })),
        )
      ).status,
      (await post('/core/update', first)).status,
      (await post('/core/update', badlySigned(updatePayload()))).status,
      (await post('/core/update', badlySigned(updatePayload({ module: 'module-b' })))).status,
      (await post('/core/update', signed(keys.privateKeyPem, updatePayload()), 'not-a-token'))
        .status,
    ];
    expect(statuses).toEqual([201, 201, 201, 201, 409, 401, 401, 401]);
  });

  afterAll(async () => {
    await browser?.close();
    if (!bridgeClosed) await bridge?.close();
    await db?.drop();
  });

  it('shows exactly the figures of the traffic sent, then a new rejection without reload', async () => {
    const { context, page } = await open(admin);
    await shows(page, '[data-tile="accepted"] .value', '4');
    const firstRender = await page.evaluate<number>(
      `performance.getEntriesByName('insight-first-render')[0]?.startTime ?? -1`,
    );
    // Browser-side expressions as text: the suites compile without the DOM library.
    const transfer = await page.evaluate<number>(
      `[...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
        .filter((e) => !e.name.includes('/api/'))
        .reduce((sum, e) => sum + e.transferSize, 0)`,
    );
    console.log(
      `InsightFlow: first render ${Math.round(firstRender)} ms after navigation; page transfer ${(transfer / 1024).toFixed(1)} KB`,
    );
    expect(page.url()).toBe(`${bridge.baseUrl}/insight`); // the token left the address bar
    const tile = (name: string) => textOf(page, `[data-tile="${name}"] .value`);
    expect(await tile('accepted')).toBe('4');
    expect(await tile('rejected')).toBe('4');
    expect(await tile('replay_attempts')).toBe('1');
    expect(await tile('invalid_signatures')).toBe('2');
    expect(await tile('invalid_tokens')).toBe('1');
    expect(await tile('nonce_store_size')).toBe('4 nonces');

    const events = page.locator('#events tbody tr');
    expect(await events.count()).toBe(4);
    expect(await events.first().locator('td').nth(2).textContent()).toBe('invalid_token');
    expect(await events.first().locator('td').nth(4).textContent()).toBe('127.0.0.1');
    const modules = await page.locator('#modules tbody tr').allTextContents();
    expect(modules).toHaveLength(2);
    expect(modules[0]).toMatch(/^module-aalive.*node-1/);
    expect(modules[1]).toMatch(/^module-balive.*node-2/);

    await page.locator('#reason-filter').selectOption('invalid_signature');
    await waitFor(async () => (await events.count()) === 2, 'the filtered events');
    await page.locator('#reason-filter').selectOption('');

    await page.screenshot({ path: `${ARTIFACTS}/insight-laptop-light.png`, fullPage: true });

    expect(
      (await post('/core/update', badlySigned(updatePayload({ module: 'module-c' })))).status,
    ).toBe(401);
    await shows(page, '[data-tile="rejected"] .value', '5');
    await waitFor(async () => (await events.count()) === 5, 'the new event');
    expect(await events.first().locator('td').nth(1).textContent()).toBe('module-c');
    await context.close();
  });

  it('"verify now" shows the verdict and "run now" starts a run that appears', async () => {
    const { context, page } = await open(admin);
    await shows(page, '[data-tile="accepted"] .value', '4');
    await page.locator('#verify').click();
    await shows(page, '#verdict', 'Chain valid: 4 entries');

    await page.locator('button[data-job="probe"]').click();
    await shows(page, '#run-message', 'of probe started');
    await shows(page, '#runs tbody', 'probe');
    await context.close();
  });

  it('an auditor sees the data, with run-now disabled', async () => {
    const { context, page } = await open(tokenFor(['auditor']));
    await shows(page, '[data-tile="accepted"] .value', '4');
    expect(await page.locator('button[data-job="probe"]').isDisabled()).toBe(true);
    await context.close();
  });

  it.each(['module', 'automation'])('a %s token sees no data', async (role) => {
    const { context, page } = await open(tokenFor([role]));
    await shows(page, '#login-message', 'This token cannot open InsightFlow');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    expect(await page.locator('#tiles .tile').count()).toBe(0);
    await context.close();
  });

  it('works at phone width, in dark mode, keyboard first', async () => {
    const { context, page } = await open(admin, { width: 390, height: 844, dark: true });
    await shows(page, '[data-tile="accepted"] .value', '4');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth');
    expect(overflow).toBeLessThanOrEqual(390);
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement?.id')).toBe('sign-out');
    await page.screenshot({ path: `${ARTIFACTS}/insight-phone-dark.png`, fullPage: true });
    await context.close();
  });

  it('N open streams share one round of queries per second', async () => {
    const snapshots = bridge.app.get(InsightSnapshotService);
    const streams = Array.from({ length: 8 }, () => new AbortController());
    const before = snapshots.rounds;
    const started = Date.now();
    const readers = streams.map(async (abort) => {
      const response = await fetch(`${bridge.baseUrl}/insight/api/stream`, {
        headers: { Authorization: `Bearer ${admin}` },
        signal: abort.signal,
      });
      const reader = response.body!.getReader();
      let events = 0;
      while (events < 3) {
        const { value } = await reader.read();
        events += new TextDecoder().decode(value).split('event: snapshot').length - 1;
      }
      abort.abort();
    });
    await Promise.all(readers);
    const seconds = (Date.now() - started) / 1000;
    const rounds = snapshots.rounds - before;
    console.log(`InsightFlow: 8 streams, ${rounds} query rounds in ${seconds.toFixed(1)} s`);
    expect(rounds).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });

  it('ends a stream when its token expires, and the page then asks for a new token', async () => {
    // Over the API: the stream says so and ends.
    const response = await fetch(`${bridge.baseUrl}/insight/api/stream`, {
      headers: { Authorization: `Bearer ${tokenFor(['admin'], { ttlSeconds: 2 })}` },
    });
    expect(response.status).toBe(200);
    let text = '';
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(text).toContain('event: snapshot');
    expect(text.endsWith('event: expired\ndata: {}\n\n')).toBe(true);

    // In the page: it was live, and once the token expired it shows the sign-in form.
    const { context, page } = await open(tokenFor(['admin'], { ttlSeconds: 3 }));
    await shows(page, '#connection', 'live');
    await shows(page, '#login-message', 'This token was refused (expired');
    expect(await page.locator('#dashboard').isHidden()).toBe(true);
    await context.close();
  });

  it('says "connection lost, retrying" when the service goes away', async () => {
    const { context, page } = await open(admin);
    await shows(page, '#connection', 'live');
    bridgeClosed = true;
    await bridge.close();
    await shows(page, '#connection', 'connection lost, retrying');
    await context.close();
  });
});
