// The admin web UI in a real headless Chromium against the real admin app (real Redis, real
// OrientDB, a real log-archiver process): login, live, archive, submit, broker, a 20k burst.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { waitFor } from '@mupets/testkit';
import { createUiRouter, type UiRouter } from '../src/ui';
import { buildUi } from './browser/build-ui';
import { launchChromium } from './browser/chromium';
import { screenshot } from './browser/screenshots';
import { silentLogger } from './browser/silent-logger';
import { startTestAdmin, type TestAdmin } from './helpers';

let admin: TestAdmin;
let ui: UiRouter;
let built: Awaited<ReturnType<typeof buildUi>>;
let browser: Browser;
let baseUrl: string;
let studio: Server;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  built = await buildUi();
  ui = createUiRouter({ dir: built.dir, watch: false, logger: silentLogger });
  // stands in for OrientDB Studio's address: the header links to it once the admin can reach it
  studio = createServer((_request, response) => response.end('studio'));
  await new Promise<void>((resolve) => studio.listen(0, '127.0.0.1', resolve));
  const studioUrl = `http://127.0.0.1:${(studio.address() as AddressInfo).port}/studio/index.html`;
  admin = await startTestAdmin({ file: __filename, ui, env: { ADMIN_STUDIO_URL: studioUrl } });
  await admin.startArchiver();
  baseUrl = await admin.listen();
  browser = await launchChromium();
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await ui?.close();
  await admin?.close();
  await built?.remove();
  await new Promise((resolve) => studio?.close(resolve));
});

/** A page with a session of its own (logged in through the API, its cookie handed to the browser). */
async function loggedInPage(options: BrowserContextOptions = {}): Promise<Page> {
  const { cookie } = await admin.login();
  const [name, value] = cookie.split('=') as [string, string];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  contexts.push(context);
  await context.addCookies([{ name, value, url: baseUrl, httpOnly: true, sameSite: 'Strict' }]);
  return context.newPage();
}

/** Opens the live page and waits until its stream is positioned (what is published now is shown). */
async function openLive(page: Page): Promise<void> {
  await page.goto(`${baseUrl}/live`);
  await page.locator('[data-connection="open"]').waitFor({ timeout: 15_000 });
}

function logMessage(word: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'ui-test.line',
    source: { service: 'browser-test', instance: 'jest' },
    level: 'info' as const,
    message: `a line for the browser test ${word}`,
    data: { word, ...extra },
  };
}

test('the login page refuses a wrong password, then logs in and lands on the page asked for', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(`${baseUrl}/archive`);
  // no session: the app sends the browser to the login page
  expect(new URL(page.url()).pathname).toBe('/login');

  await page.fill('input[name="password"]', 'not the password');
  await page.click('button[type="submit"]');
  await expect(page.locator('#login-error').textContent({ timeout: 10_000 })).resolves.toBe('Wrong password.');
  await screenshot(page, 'login');

  await page.fill('input[name="password"]', admin.password);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${baseUrl}/live`, { timeout: 10_000 });
  await page.locator('[data-connection="open"]').waitFor({ timeout: 15_000 });
});

test('the login page says when too many attempts were made', async () => {
  // an admin of its own: the limit is per admin process, and this one allows 2 attempts a minute
  const limited = await startTestAdmin({
    file: `${__filename}-rate`,
    ui: createUiRouter({ dir: built.dir, watch: false, logger: silentLogger }),
    env: { ADMIN_LOGIN_RATE_LIMIT: '2' },
  });
  try {
    const url = await limited.listen();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${url}/login`);
    const error = page.locator('#login-error');
    for (let attempt = 0; attempt < 2; attempt++) {
      await page.fill('input[name="password"]', `wrong ${attempt}`);
      await page.click('button[type="submit"]');
      await expect(error.textContent({ timeout: 10_000 })).resolves.toBe('Wrong password.');
      await page.locator('button[type="submit"]:not([disabled])').waitFor();
    }
    await page.fill('input[name="password"]', limited.password);
    await page.click('button[type="submit"]');
    await error.filter({ hasText: 'Too many attempts' }).waitFor({ timeout: 10_000 });
    await expect(error.textContent()).resolves.toMatch(/^Too many attempts\. Try again in \d+ s\.$/);
    expect(new URL(page.url()).pathname).toBe('/login');
  } finally {
    await limited.close();
  }
});

test('an event published on the broker shows up in Live within a second', async () => {
  const page = await loggedInPage();
  await openLive(page);
  const word = `live${randomUUID().slice(0, 8)}`;

  await admin.broker.publish('logs', logMessage(word));
  // the product requirement: on screen within 1 s of publishing (a bound, not a measured figure)
  await page.locator('[data-row]', { hasText: word }).waitFor({ timeout: 1000 });

  await page.locator('[data-row]', { hasText: word }).click();
  const panel = page.locator('aside[aria-label="Message"]');
  await expect(panel.textContent()).resolves.toContain(`"word": "${word}"`);
  await screenshot(page, 'live');
});

test('Live keeps a large entry cut and loads the whole record from the archive when it is opened', async () => {
  const page = await loggedInPage();
  await openLive(page);
  const word = `huge${randomUUID().slice(0, 8)}`;
  const end = `END${word}`;
  // 60 000 characters: over what Live keeps per entry, under the broker's 64 KiB
  await admin.broker.publish('logs', { ...logMessage(word), message: `${word} ${'x'.repeat(60_000)} ${end}` });
  const row = page.locator('[data-row]', { hasText: word });
  await row.waitFor({ timeout: 10_000 });
  await expect(row.textContent()).resolves.not.toContain(end);

  await row.click();
  const panel = page.locator('aside[aria-label="Message"]');
  // the archiver stores it within seconds; until then the panel says it shows the entry cut
  for (let attempt = 0; attempt < 30 && !(await panel.textContent())?.includes(end); attempt++) {
    const retry = panel.locator('button', { hasText: 'Try again' });
    if (await retry.isVisible()) {
      await retry.click();
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  await expect(panel.textContent()).resolves.toContain(end);
  await expect(panel.locator('[data-cut]').count()).resolves.toBe(0);
});

test('the live filter shows only matching lines, and keyboard shortcuts pause and clear', async () => {
  const page = await loggedInPage();
  await openLive(page);
  const keep = `keep${randomUUID().slice(0, 8)}`;
  const drop = `drop${randomUUID().slice(0, 8)}`;
  await page.keyboard.press('/');
  await page.keyboard.type(keep);
  await admin.broker.publish('logs', [logMessage(drop), logMessage(keep)]);
  await page.locator('[data-row]', { hasText: keep }).waitFor({ timeout: 10_000 });
  expect(await page.locator('[data-row]', { hasText: drop }).count()).toBe(0);

  await page.keyboard.press('Escape');
  await page.keyboard.press(' ');
  await page.locator('button[data-action="pause"]', { hasText: 'Resume' }).waitFor({ timeout: 5000 });
  const held = `held${randomUUID().slice(0, 8)}`;
  await page.fill('input[aria-label="Filter text"]', '');
  // a clicked line has the focus: the shortcuts still work
  await page.locator('[data-row]', { hasText: keep }).click();
  await admin.broker.publish('logs', logMessage(held));
  // paused: counted, not shown
  await page.locator('button[data-action="pause"]', { hasText: '1 new' }).waitFor({ timeout: 10_000 });
  expect(await page.locator('[data-row]', { hasText: held }).count()).toBe(0);
  await page.keyboard.press(' ');
  await page.locator('[data-row]', { hasText: held }).waitFor({ timeout: 5000 });

  await page.keyboard.press('c');
  await waitFor(async () => (await page.locator('[data-row]').count()) === 0, { what: 'the list cleared' });
});

test('Live continues into the archive: older lines load in front, without a gap or a duplicate', async () => {
  const word = `hist${randomUUID().slice(0, 8)}`;
  await admin.broker.publish(
    'logs',
    Array.from({ length: 30 }, (_, n) => logMessage(word, { n })),
  );
  await waitFor(async () => (await admin.archive.search({ text: word, limit: 100 })).records.length === 30, {
    timeoutMs: 30_000,
    what: 'the first 30 archived',
  });
  const page = await loggedInPage();
  await openLive(page);
  await page.fill('input[aria-label="Filter text"]', word);
  await admin.broker.publish(
    'logs',
    Array.from({ length: 5 }, (_, i) => logMessage(word, { n: 30 + i })),
  );
  const count = async (): Promise<number> =>
    Number(((await page.locator('[data-count]').textContent()) ?? '').replace(/,/g, '').match(/^\d+/)?.[0] ?? -1);
  await waitFor(async () => (await count()) === 5, { what: 'the 5 live lines' });

  await page.click('button[data-action="older"]');
  await waitFor(async () => (await count()) === 35, { what: 'the 30 older lines in front of the live ones' });
  // the view kept its place; at the top of the list are the archived lines (n < 30), oldest first
  await page.evaluate('document.querySelector(".vlist").scrollTop = 0');
  await page.locator('[data-row]').first().click();
  const panel = (await page.locator('aside[aria-label="Message"]').textContent()) ?? '';
  expect(Number(/"n": (\d+)/.exec(panel)?.[1])).toBeLessThan(30);
  expect(await count()).toBe(35);
});

test('Archive finds an archived event by full text and shows the whole record', async () => {
  const word = `arch${randomUUID().slice(0, 8)}`;
  const [brokerId] = await admin.broker.publish('logs', [logMessage(word)]);
  expect(brokerId).toBeDefined();
  // the real log-archiver stores it
  await waitFor(async () => (await admin.archive.search({ text: word, limit: 1 })).records.length === 1, {
    timeoutMs: 30_000,
    what: 'the event archived',
  });

  const page = await loggedInPage();
  await page.goto(`${baseUrl}/archive`);
  await page.fill('input[name="text"]', word);
  await page.click('form[role="search"] button[type="submit"]');
  const row = page.locator('tr[data-record]', { hasText: word });
  await row.waitFor({ timeout: 10_000 });
  // the page opened with the last hour unfiltered: wait for the filtered answer to replace it
  await waitFor(async () => (await page.locator('tr[data-record]').count()) === 1, { what: 'one record found' });
  await expect(page.locator('tr[data-record]').textContent()).resolves.toContain(word);
  await page.locator('figure.chart').waitFor({ timeout: 10_000 });
  const exportHref = await page.locator('a', { hasText: 'NDJSON' }).getAttribute('href');
  expect(exportHref).toContain('format=ndjson');
  expect(exportHref).toContain(`text=${word}`);

  await row.click();
  await expect(page.locator('aside[aria-label="Record"]').textContent()).resolves.toContain(brokerId as string);
  await screenshot(page, 'archive');
});

test('Archive filters on a field of data and on a container, and the URL carries the filters', async () => {
  const word = `field${randomUUID().slice(0, 8)}`;
  const line = (status: number | string, instance: string) => ({
    ...logMessage(word, { status, docker: { containerId: 'feed'.repeat(16), image: 'nginx', stream: 'stderr' } }),
    source: { service: 'browser-test', instance },
  });
  await admin.broker.publish('logs', [
    line(500, 'shop-web-1'),
    line('500', 'shop-web-1'),
    line(200, 'shop-web-1'),
    line(500, 'shop-db-1'),
  ]);
  await waitFor(async () => (await admin.archive.search({ text: word, limit: 10 })).records.length === 4, {
    timeoutMs: 30_000,
    what: 'the four lines archived',
  });

  const page = await loggedInPage();
  await page.goto(`${baseUrl}/archive`);
  await page.fill('input[name="text"]', word);
  await page.fill('input[name="field"]', 'status');
  await page.fill('input[name="value"]', '500');
  await page.fill('input[name="container"]', 'shop-web-1');
  await page.selectOption('select[name="stream"]', 'stderr');
  await page.click('form[role="search"] button[type="submit"]');
  // the number 500 of that container only: not the string "500", not the other container
  await waitFor(async () => (await page.locator('tr[data-record]').count()) === 1, { what: 'one record found' });
  await page.locator('tr[data-record]').click();
  const panel = (await page.locator('aside[aria-label="Record"]').textContent()) ?? '';
  expect(panel).toContain('"status": 500');
  expect(panel).toContain('shop-web-1');
  const url = new URL(page.url());
  expect(Object.fromEntries(url.searchParams)).toMatchObject({
    field: 'status',
    value: '500',
    container: 'shop-web-1',
    stream: 'stderr',
    text: word,
  });
  const exportHref = (await page.locator('a', { hasText: 'NDJSON' }).getAttribute('href')) ?? '';
  expect(exportHref).toContain('field=status');
  expect(exportHref).toContain('container=shop-web-1');

  // the link opens the same search; the quoted value is the string "500"
  url.searchParams.set('value', '"500"');
  const linked = await loggedInPage();
  await linked.goto(url.toString());
  await expect(linked.locator('input[name="field"]').inputValue()).resolves.toBe('status');
  await waitFor(async () => (await linked.locator('tr[data-record]').count()) === 1, { what: 'the string record' });
  await linked.locator('tr[data-record]').click();
  await expect(linked.locator('aside[aria-label="Record"]').textContent()).resolves.toContain('"status": "500"');

  // a bad path is refused by the server, naming the field
  await linked.fill('input[name="field"]', 'status OR 1=1');
  await linked.click('form[role="search"] button[type="submit"]');
  await expect(linked.locator('.banner.error').textContent({ timeout: 10_000 })).resolves.toContain('field');
  await screenshot(page, 'archive-field-filter');
});

test('Submit checks the form, sends the event and follows it until it is archived', async () => {
  const page = await loggedInPage();
  await page.goto(`${baseUrl}/submit`);

  // checked in the browser before anything is sent
  await page.fill('textarea[name="data"]', '{ "a": 1,, }');
  await page.click('button[type="submit"]');
  await expect(page.locator('[data-error-for="type"]').textContent()).resolves.toContain('required');
  await expect(page.locator('[data-error-for="data"]').textContent()).resolves.toMatch(/line 1, column \d+/);

  const word = `sub${randomUUID().slice(0, 8)}`;
  await page.fill('input[name="type"]', 'ui-test.submitted');
  await page.fill('input[name="message"]', `submitted from the browser ${word}`);
  await page.fill('textarea[name="data"]', JSON.stringify({ word, nested: { n: 1 } }, null, 2));
  await page.click('button[type="submit"]');

  await page.locator('[data-step="seen"].done').waitFor({ timeout: 15_000 });
  await page.locator('.progress[data-stage="archived"]').waitFor({ timeout: 30_000 });
  await screenshot(page, 'submit');

  await page.click('a[data-record-link]');
  await page.waitForURL(/\/archive\?record=/, { timeout: 5000 });
  await expect(page.locator('aside[aria-label="Record"]').textContent({ timeout: 10_000 })).resolves.toContain(word);
});

test('Submit shows the server refusing a field next to that field', async () => {
  const page = await loggedInPage();
  await page.goto(`${baseUrl}/submit`);
  // a channel the admin does not carry: the browser cannot know, the server says so
  await page.fill('input[name="channel"]', 'nochannel');
  await page.fill('input[name="type"]', 'ui-test.refused');
  await page.click('button[type="submit"]');
  await expect(page.locator('[data-error-for="channel"]').textContent({ timeout: 10_000 })).resolves.toContain(
    'must be one of',
  );
});

test('Broker lists every channel with its groups, and a dead letter can be replayed', async () => {
  const word = `dead${randomUUID().slice(0, 8)}`;
  // a consumer that refuses one message for good: it goes to the dead-letter channel at once
  const consumer = admin.broker.consume(
    'logs',
    'ui-test-group',
    (batch) => ({
      failed: batch
        .filter((entry) => entry.envelope.data?.word === word)
        .map((entry) => ({ id: entry.id, error: new Error(`cannot digest ${word}`), deadLetter: true })),
    }),
    { startId: '$', blockMs: 200 },
  );
  try {
    await waitFor(async () => (await admin.broker.stats('logs')).groups.some((g) => g.name === 'ui-test-group'), {
      what: 'the test group',
    });
    await admin.broker.publish('logs', logMessage(word));
    const page = await loggedInPage();
    await page.goto(`${baseUrl}/broker`);
    const card = page.locator('article[data-channel="logs"]');
    await card.locator('td', { hasText: 'ui-test-group' }).waitFor({ timeout: 10_000 });
    // the page refreshes itself: the dead letter's count appears without a reload
    const button = card.locator('button', { hasText: /^Dead letters \([1-9]/ });
    await button.waitFor({ timeout: 20_000 });
    await button.click();
    const letter = card.locator('li[data-dead-letter]', { hasText: `cannot digest ${word}` });
    await letter.waitFor({ timeout: 10_000 });
    await screenshot(page, 'broker');

    await letter.locator('button', { hasText: 'Replay' }).click();
    const dialog = page.locator('dialog[open]');
    await dialog.locator('input[name="confirm"]').fill('ui-test.line');
    await dialog.locator('button[type="submit"]').click();
    await card.locator('.banner.ok', { hasText: 'Published again' }).waitFor({ timeout: 10_000 });
  } finally {
    await consumer.stop();
  }
});

test('Broker shows which group holds trimming back; a retired one is removed, one still read is refused', async () => {
  // a retired service's group on events: created at the start, reads nothing any more
  await admin.broker.publish('events', { type: 'ui.group', source: { service: 'ui-test' } });
  const redis = new Redis(admin.config.REDIS_URL);
  await redis.xgroup('CREATE', `${admin.prefix}events`, 'gone-svc', '0', 'MKSTREAM');
  redis.disconnect();
  const live = admin.broker.consume('events', 'live-svc', () => undefined, { blockMs: 200 });
  try {
    await waitFor(async () => (await admin.broker.stats('events')).groups.some((g) => g.name === 'live-svc'), {
      what: 'the live group',
    });
    const page = await loggedInPage();
    await page.goto(`${baseUrl}/broker`);
    const card = page.locator('article[data-channel="events"]');
    const held = card.locator('td[data-trimming="gone-svc"]');
    await held.waitFor({ timeout: 10_000 });
    await expect(held.textContent()).resolves.toMatch(/^holds [1-9][\d,]* entr/);

    const removeGroup = async (group: string): Promise<void> => {
      await card
        .locator('tr', { has: page.locator(`td[data-trimming="${group}"]`) })
        .locator('button', { hasText: 'Remove' })
        .click();
      const dialog = page.locator('dialog[open]');
      await dialog.locator('input[name="confirm"]').fill(group);
      await dialog.locator('button[type="submit"]').click();
    };
    await removeGroup('live-svc');
    await page.locator('dialog[open]', { hasText: 'stop it first' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
    await page.locator('dialog[open]').waitFor({ state: 'detached', timeout: 5000 });

    await removeGroup('gone-svc');
    await page.locator('.banner.ok', { hasText: 'Group gone-svc removed from events' }).waitFor({ timeout: 10_000 });
    await held.waitFor({ state: 'detached', timeout: 10_000 });
    expect((await admin.broker.stats('events')).groups.map((g) => g.name)).toContain('live-svc');
  } finally {
    await live.stop();
  }
});

test('Containers says Docker is unreachable, the header shows each dependency and the Studio link, the rest works', async () => {
  // this admin has no Docker (the containers routes answer 503); browser-containers.test.ts has one
  const page = await loggedInPage();
  await page.goto(`${baseUrl}/containers`);
  await expect(page.locator('[data-docker-error]').textContent({ timeout: 10_000 })).resolves.toContain(
    'Docker is unreachable',
  );
  await page.locator('[data-dot="docker"][data-state="down"]').waitFor({ timeout: 10_000 });
  await page.locator('[data-dot="broker"][data-state="up"]').waitFor({ timeout: 10_000 });
  await page.locator('[data-dot="archive"][data-state="up"]').waitFor({ timeout: 10_000 });
  await expect(page.locator('a.studio').getAttribute('href')).resolves.toMatch(/\/studio\/index\.html$/);
  await page.click('nav a[href="/live"]');
  await page.locator('[data-connection="open"]').waitFor({ timeout: 15_000 });
});

test('a 20k burst leaves Live responsive, with a bounded number of rows in the DOM', async () => {
  const page = await loggedInPage();
  await openLive(page);
  const burst = `burst${randomUUID().slice(0, 8)}`;
  const total = 20_000;
  for (let start = 0; start < total; start += 1000) {
    await admin.broker.publish(
      'logs',
      Array.from({ length: 1000 }, (_, i) => logMessage(burst, { n: start + i })),
    );
  }
  // every line of the burst reaches the buffer (the count shows what passes the filter: no filter)
  await waitFor(
    async () => {
      const text = (await page.locator('[data-count]').textContent()) ?? '';
      return Number(text.replace(/[^\d]/g, '')) >= total;
    },
    { timeoutMs: 60_000, what: 'the burst buffered' },
  );
  // the test compiles without the DOM lib: the page runs these expressions
  const rows = await page.evaluate<number>('document.querySelectorAll("[data-row]").length');
  expect(rows).toBeGreaterThan(0);
  expect(rows).toBeLessThan(200);
  // still answering: a round trip and a keyboard action both complete
  await expect(page.evaluate<string>('document.title')).resolves.toBe('Mupets admin');
  await page.keyboard.press(' ');
  await page.locator('button[data-action="pause"]', { hasText: 'Resume' }).waitFor({ timeout: 5000 });
  await page.keyboard.press(' ');
  await page.locator('button[data-action="pause"]', { hasText: 'Pause' }).waitFor({ timeout: 5000 });
  // the newest line is in sight (follow)
  await page.locator('[data-row]', { hasText: burst }).last().waitFor({ timeout: 5000 });
  await screenshot(page, 'live-burst');
});

test('Live at phone width and in dark mode', async () => {
  const phone = await loggedInPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
  await openLive(phone);
  await admin.broker.publish('logs', [
    logMessage('phone', { n: 1 }),
    { ...logMessage('phone'), level: 'error' as const },
  ]);
  await phone.locator('[data-row]', { hasText: 'phone' }).first().waitFor({ timeout: 10_000 });
  await screenshot(phone, 'live-phone');
  await phone.click('button.menu-toggle');
  await phone.locator('nav.open a[href="/archive"]').waitFor({ timeout: 5000 });
  await screenshot(phone, 'nav-phone');

  const dark = await loggedInPage({ colorScheme: 'dark' });
  await openLive(dark);
  await admin.broker.publish('logs', [
    { ...logMessage('dark'), level: 'warn' as const },
    { ...logMessage('dark'), level: 'error' as const },
    logMessage('dark'),
  ]);
  await dark.locator('[data-row]', { hasText: 'dark' }).first().waitFor({ timeout: 10_000 });
  await dark.locator('[data-row]', { hasText: 'dark' }).first().click();
  await screenshot(dark, 'live-dark');
});
