import { startRedisServer } from '@mupets/testkit';

/** The Redis a benchmark measures: REDIS_URL when set, else a private redis-server on a free port. */
export async function redisForBench(): Promise<{ url: string; host: string; port: number; stop(): Promise<void> }> {
  const given = process.env.REDIS_URL;
  if (given) {
    const parsed = new URL(given);
    return { url: given, host: parsed.hostname, port: Number(parsed.port || 6379), stop: () => Promise.resolve() };
  }
  const server = await startRedisServer();
  return { url: server.url, host: '127.0.0.1', port: server.port, stop: () => server.destroy() };
}
