// The Containers page in a real headless Chromium against the admin on a real (private) dockerd:
// the table, a container's logs followed, and a restart behind the typed-name confirmation.
import Docker from 'dockerode';
import { buildEnvelope } from '@mupets/broker';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildBusyboxImage, composeLabels, runLooper, startDockerd, waitFor, type Dockerd } from '@mupets/testkit';
import { createAuditPublisher, type PublishAudit } from '../src/audit';
import { createContainerService } from '../src/containers/container-service';
import { createContainersRouter, dockerStatus } from '../src/containers/containers.router';
import { createUiRouter, type UiRouter } from '../src/ui';
import { buildUi } from './browser/build-ui';
import { launchChromium } from './browser/chromium';
import { screenshot } from './browser/screenshots';
import { silentLogger } from './browser/silent-logger';
import { startTestAdmin, type TestAdmin } from './helpers';

const PROJECT = 'mupetsui';
const WEB = `${PROJECT}_web_1`;
const WORKER = `${PROJECT}_worker_1`;

let dockerd: Dockerd;
let docker: Docker;
let admin: TestAdmin;
let ui: UiRouter;
let built: Awaited<ReturnType<typeof buildUi>>;
let browser: Browser;
let context: BrowserContext;
let baseUrl: string;
let webId = '';

/** The router's audit publisher delegates to the admin's own once the admin exists. */
let publishAudit: PublishAudit = () => Promise.reject(new Error('admin not started'));

beforeAll(async () => {
  dockerd = await startDockerd();
  docker = new Docker({ socketPath: dockerd.socketPath });
  await buildBusyboxImage(docker);
  const [web] = await Promise.all([
    runLooper(docker, { name: WEB, labels: composeLabels(PROJECT, 'web'), healthcheck: true }),
    runLooper(docker, { name: WORKER, labels: composeLabels(PROJECT, 'worker') }),
  ]);
  webId = web.id;
  const service = createContainerService({ socketPath: dockerd.socketPath, project: PROJECT, logger: silentLogger });
  built = await buildUi();
  ui = createUiRouter({ dir: built.dir, watch: false, logger: silentLogger });
  admin = await startTestAdmin({
    file: __filename,
    ui,
    containers: createContainersRouter({
      docker: service,
      publishAudit: (action, target, extra) => publishAudit(action, target, extra),
      logger: silentLogger,
    }),
    dockerStatus: () => dockerStatus(service),
  });
  publishAudit = createAuditPublisher(admin.broker);
  baseUrl = await admin.listen();
  browser = await launchChromium();
  const { cookie } = await admin.login();
  const [name, value] = cookie.split('=') as [string, string];
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addCookies([{ name, value, url: baseUrl, httpOnly: true, sameSite: 'Strict' }]);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await ui?.close();
  await admin?.close();
  await built?.remove();
  await dockerd?.stop();
});

async function containersPage(): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${baseUrl}/containers`);
  await page.locator(`tr[data-container="${WEB}"]`).waitFor({ timeout: 20_000 });
  return page;
}

test("the table lists the project's containers with state, health and resources", async () => {
  const page = await containersPage();
  const web = page.locator(`tr[data-container="${WEB}"]`);
  await expect(web.locator('td[data-label="state"]').textContent()).resolves.toBe('running');
  await web.locator('td[data-label="health"]', { hasText: 'healthy' }).waitFor({ timeout: 20_000 });
  // CPU and memory come from the stats call of each running container
  await web.locator('td[data-label="memory"]', { hasText: /B/ }).waitFor({ timeout: 20_000 });
  await page.locator(`tr[data-container="${WORKER}"]`).waitFor();
  await page.locator('[data-dot="docker"][data-state="up"]').waitFor({ timeout: 10_000 });
  await screenshot(page, 'containers');
  await page.close();

  // at phone width the table turns into one card per container
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${baseUrl}/containers`);
  await phone.locator(`tr[data-container="${WORKER}"]`).waitFor({ timeout: 20_000 });
  await screenshot(phone, 'containers-phone');
  await phone.close();
});

test("a container's logs are shown, then followed as it writes", async () => {
  const page = await containersPage();
  await page.locator(`tr[data-container="${WEB}"] button`, { hasText: 'Logs' }).click();
  const logs = page.locator('.logs-panel .logs');
  await logs
    .locator('div', { hasText: `${WEB} out` })
    .first()
    .waitFor({ timeout: 10_000 });

  await page.locator('.logs-panel input[type="checkbox"]').check();
  // following: lines newer than any shown before keep arriving
  const newest = async (): Promise<number> => {
    const text =
      (await logs
        .locator('div', { hasText: `${WEB} out` })
        .last()
        .textContent()) ?? '';
    return Number(/out (\d+)/.exec(text)?.[1] ?? 0);
  };
  await waitFor(async () => (await newest()) > 0, { what: 'a followed line' });
  const first = await newest();
  await waitFor(async () => (await newest()) > first + 3, { what: 'more followed lines' });
  await page.close();
});

test('restart asks for the container name first, then restarts it', async () => {
  const before = (await docker.getContainer(webId).inspect()).State.StartedAt;
  const page = await containersPage();
  await page.locator(`tr[data-container="${WEB}"] button`, { hasText: 'Restart' }).click();
  const dialog = page.locator('dialog[open]');
  const confirm = dialog.locator('button[type="submit"]');
  // the button stays off until the exact name is typed
  await dialog.locator('input[name="confirm"]').fill('mupetsui_web');
  expect(await confirm.isDisabled()).toBe(true);
  await dialog.locator('input[name="confirm"]').fill(WEB);
  expect(await confirm.isDisabled()).toBe(false);
  await screenshot(page, 'containers-confirm');
  await confirm.click();
  await page.locator('.banner.ok', { hasText: `Restart of ${WEB} requested` }).waitFor({ timeout: 20_000 });
  await waitFor(async () => (await docker.getContainer(webId).inspect()).State.StartedAt !== before, {
    timeoutMs: 20_000,
    what: 'the container restarted',
  });
  await page.close();
});

test('each container links to its archived history, still reachable by name once it is removed', async () => {
  // what the log-collector would have archived from a container that no longer exists
  const GONE = `${PROJECT}_gone_1`;
  const gone = await runLooper(docker, { name: GONE, labels: composeLabels(PROJECT, 'gone') });
  const goneId = gone.id;
  const record = (instance: string, containerId: string, n: number) => ({
    channel: 'logs',
    brokerId: `${1_720_000_000_000 + n}-0`,
    envelope: buildEnvelope('logs', {
      type: 'container.log',
      ts: new Date(Date.now() - 86_400_000 + n * 1000).toISOString(),
      source: { service: instance.split('_')[1]!, instance },
      level: 'info',
      message: `${instance} archived line ${n}`,
      data: { docker: { containerId, image: 'busybox', stream: 'stdout' } },
    }),
  });
  await admin.archive.write([record(WEB, webId, 1), record(GONE, goneId, 2), record(WORKER, 'f'.repeat(64), 3)]);
  await gone.remove({ force: true });

  const page = await containersPage();
  await page.locator(`a[data-history="${WEB}"]`).click();
  await page.waitForURL(/\/archive\?/, { timeout: 10_000 });
  await waitFor(async () => (await page.locator('tr[data-record]').count()) === 1, {
    what: "the web container's line",
  });
  await expect(page.locator('tr[data-record]').textContent()).resolves.toContain(`${WEB} archived line 1`);
  await expect(page.locator('input[name="container"]').inputValue()).resolves.toBe(WEB);

  await page.goto(`${baseUrl}/containers`);
  await page.locator(`tr[data-container="${WEB}"]`).waitFor({ timeout: 20_000 });
  expect(await page.locator(`tr[data-container="${GONE}"]`).count()).toBe(0);
  await page.fill('input[name="history"]', GONE);
  await page.click('form.history-form button[type="submit"]');
  await page.waitForURL(/\/archive\?/, { timeout: 10_000 });
  await waitFor(async () => (await page.locator('tr[data-record]').count()) === 1, {
    what: "the removed container's line",
  });
  await expect(page.locator('tr[data-record]').textContent()).resolves.toContain(`${GONE} archived line 2`);
  await page.close();
});
