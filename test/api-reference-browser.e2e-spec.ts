import type { OpenAPIObject } from '@nestjs/swagger';
import type { Browser, Page } from 'playwright-core';
import { startTestBridge, type TestBridge } from './support/bridge.js';
import { ARTIFACTS, launchChromium, requestsLeaving } from './support/browser.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestKeys } from './support/keys.js';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** `METHOD /path` of every operation the document describes. */
function documentedOperations(document: OpenAPIObject): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    HTTP_METHODS.filter((method) => item[method]).map(
      (method) => `${method.toUpperCase()} ${path}`,
    ),
  );
}

/** `GET /docs` (Swagger UI over the app's own document) in Debian's Chromium (SPEC §12). */
describe('the API reference page in a real browser', () => {
  let db: TestDatabase;
  let bridge: TestBridge;
  let browser: Browser;
  let document: OpenAPIObject;

  /** The operation block of `method path` on the page. */
  const operation = (page: Page, method: string, path: string) =>
    page.locator(`.opblock-${method}`, {
      has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
    });

  beforeAll(async () => {
    db = await createTestDatabase('api_reference_browser');
    bridge = await startTestBridge({ databaseUrl: db.url, keysDir: createTestKeys().dir });
    document = (await (await fetch(`${bridge.baseUrl}/docs/openapi.json`)).json()) as OpenAPIObject;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await bridge?.close();
    await db?.drop();
  });

  it('renders every documented route from its own origin; an expanded operation lists its answers', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const leaving = requestsLeaving(page, bridge.baseUrl);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });

    await page.goto(`${bridge.baseUrl}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor();
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain(
      'Core–Bucket Bridge',
    );
    const ingestion = operation(page, 'post', '/core/update');
    await ingestion.waitFor();

    const rendered = await page
      .locator('.opblock-summary')
      .evaluateAll((summaries) =>
        summaries.map(
          (summary) =>
            `${summary.querySelector('.opblock-summary-method')?.textContent} ${summary
              .querySelector('.opblock-summary-path')
              ?.getAttribute('data-path')}`,
        ),
      );
    expect(rendered.sort()).toEqual(documentedOperations(document).sort());

    const sections = await page
      .locator('.opblock-tag')
      .evaluateAll((tags) => tags.map((tag) => tag.getAttribute('data-tag')));
    expect(sections).toEqual((document.tags ?? []).map(({ name }) => name));
    const ingestionSection = page.locator('.opblock-tag-section', {
      has: page.locator('.opblock-tag[data-tag="Ingestion"]'),
    });
    expect(
      await ingestionSection
        .locator('.opblock-summary-path')
        .evaluateAll((paths) => paths.map((path) => path.getAttribute('data-path'))),
    ).toEqual(['/core/update', '/core/heartbeat', '/bucket/status']);

    await ingestion.locator('.opblock-summary').click();
    const codes = ingestion.locator('.responses-table tr.response > td.response-col_status');
    await codes.first().waitFor();
    const shownCodes = (await codes.allTextContents()).map((code) => code.trim());
    expect(shownCodes).toEqual(Object.keys(document.paths['/core/update'].post?.responses ?? {}));
    expect(await ingestion.locator('.responses-table').textContent()).toContain('replay_detected');

    await page.screenshot({ path: `${ARTIFACTS}/api-reference.png`, fullPage: true });
    expect(leaving).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
