import { startRedisServer, type RedisServer } from './redis-server';

declare global {
  var __MUPETS_REDIS__: RedisServer | undefined;
}

/**
 * Jest global setup for integration tests: a private redis-server on a free port, shared by the
 * test files (each uses its own key prefix), unless REDIS_URL points at one already.
 * Tests that restart Redis start their own with `startRedisServer()`.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    return;
  }
  const server = await startRedisServer();
  globalThis.__MUPETS_REDIS__ = server;
  // workers are forked after global setup and inherit this
  process.env.REDIS_URL = server.url;
}
