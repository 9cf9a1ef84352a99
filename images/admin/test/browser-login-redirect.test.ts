// After login the page goes where `next` asks, but only to a page of this admin: in a real headless
// Chromium, since what counts is where the browser itself resolves the address (issue 14, item 2).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createUiRouter, type UiRouter } from '../src/ui';
import { buildUi } from './browser/build-ui';
import { launchChromium } from './browser/chromium';
import { silentLogger } from './browser/silent-logger';
import { startTestAdmin, type TestAdmin } from './helpers';

let admin: TestAdmin;
let ui: UiRouter;
let built: Awaited<ReturnType<typeof buildUi>>;
let browser: Browser;
let baseUrl: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  built = await buildUi();
  ui = createUiRouter({ dir: built.dir, watch: false, logger: silentLogger });
  admin = await startTestAdmin({ file: __filename, ui });
  baseUrl = await admin.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await ui?.close();
  await admin?.close();
  await built?.remove();
});

/**
 * Opens the login page with `next` as given (already percent-encoded), logs in, and resolves with
 * the address the browser ended on and every request that left for another origin (answered
 * here, never sent).
 */
async function logInWithNext(next: string): Promise<{ landed: URL; foreign: string[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const foreign: string[] = [];
  const origin = new URL(baseUrl).origin;
  await context.route(
    (url) => url.origin !== origin,
    async (route) => {
      foreign.push(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>elsewhere</p>' });
    },
  );
  const page: Page = await context.newPage();
  await page.goto(`${baseUrl}/login?next=${next}`);
  await page.fill('input[name="password"]', admin.password);
  await page.click('button[type="submit"]');
  await page.waitForURL((url) => url.pathname !== '/login', { timeout: 10_000 });
  return { landed: new URL(page.url()), foreign };
}

test.each([
  ['a backslash the browser reads as a slash', '/%5Cevil.example'],
  ['a backslash after the slash, then a path', '/%5C/evil.example/live'],
  ['a tab the browser strips', '/%09/evil.example'],
  ['a protocol-relative address', '//evil.example'],
  ['an absolute address', 'https%3A%2F%2Fevil.example%2F'],
  ['a javascript: address', 'javascript%3Aalert(1)'],
])('next= with %s stays on the admin and lands on Live', async (_what, next) => {
  const { landed, foreign } = await logInWithNext(next);
  expect(foreign).toEqual([]);
  expect(landed.origin).toBe(new URL(baseUrl).origin);
  expect(landed.pathname).toBe('/live');
});

test('next= with a page of the admin lands there, query and all', async () => {
  const { landed, foreign } = await logInWithNext(encodeURIComponent('/archive?service=billing'));
  expect(foreign).toEqual([]);
  expect(`${landed.pathname}${landed.search}`).toBe('/archive?service=billing');
});
