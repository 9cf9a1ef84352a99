import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';

/** Where the browser tests leave their screenshots (looked at by people, not asserted). */
export const SCREENSHOT_DIR = resolve(__dirname, '../../../../test-artifacts/screenshots');

/** Saves a full-viewport PNG as test-artifacts/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}
