// Dev mode: the UI router runs esbuild's watch in the admin process; editing a web source rebuilds
// and every open page reloads itself with the change. Sources edited here are a temporary copy.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { spawnTs, waitFor } from '@mupets/testkit';
import { launchChromium } from './browser/chromium';

let work: string;
let server: ChildProcessWithoutNullStreams;
let output = '';
let browser: Browser;
let baseUrl: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'mupets-admin-dev-'));
  await cp(resolve(__dirname, '../web/src'), join(work, 'src'), { recursive: true });
  server = spawnTs(resolve(__dirname, 'browser/dev-ui-server.ts'), {
    UI_DIR: join(work, 'dist'),
    UI_SOURCE_DIR: join(work, 'src'),
  });
  server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await waitFor(() => /listening (\d+)/.exec(output)?.[1], { timeoutMs: 30_000, what: 'the dev server' });
  baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(() => output.includes('web ui built'), { timeoutMs: 30_000, what: 'the first build' });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((done) => server.once('exit', done));
    server.kill('SIGTERM');
    await exited;
  }
  await rm(work, { recursive: true, force: true });
});

test('editing a web source rebuilds the UI and the open page reloads with the change', async () => {
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/login`);
  await expect(page.locator('h1').textContent({ timeout: 10_000 })).resolves.toBe('Mupets admin');
  // the page listens for rebuilds on the dev endpoint: edit only once it does
  await waitFor(() => output.includes('web ui reload client connected'), { what: 'the page listening' });
  const reloaded = page.waitForEvent('load', { timeout: 30_000 });

  const file = join(work, 'src/login/login-page.tsx');
  const source = await readFile(file, 'utf8');
  expect(source).toContain('<h1>Mupets admin</h1>');
  await writeFile(file, source.replace('<h1>Mupets admin</h1>', '<h1>Mupets admin (edited)</h1>'));

  await reloaded;
  await expect(page.locator('h1').textContent({ timeout: 10_000 })).resolves.toBe('Mupets admin (edited)');
  await page.close();
});
