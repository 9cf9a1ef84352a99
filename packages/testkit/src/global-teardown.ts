import './global-setup';

export default async function globalTeardown(): Promise<void> {
  await Promise.all([
    globalThis.__MUPETS_REDIS__?.destroy(),
    globalThis.__MUPETS_ORIENTDB__?.destroy(),
    globalThis.__MUPETS_KAFKA__?.destroy(),
  ]);
  globalThis.__MUPETS_REDIS__ = undefined;
  globalThis.__MUPETS_ORIENTDB__ = undefined;
  globalThis.__MUPETS_KAFKA__ = undefined;
}
