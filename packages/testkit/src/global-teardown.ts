import './global-setup';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__MUPETS_REDIS__?.destroy();
  globalThis.__MUPETS_REDIS__ = undefined;
}
