// Builds the web UI into a temporary directory, the way `npm run build` builds web/dist.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const BUILD_SCRIPT = resolve(__dirname, '../../web/build.mjs');

/** The built UI's directory, and a function that removes it. */
export async function buildUi(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mupets-admin-ui-'));
  await promisify(execFile)(process.execPath, [BUILD_SCRIPT, '--outdir', dir]);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
