export { freePort } from './free-port';
export { startRedisServer, assertRedisInstalled, type RedisServer, type RedisServerOptions } from './redis-server';
export { spawnTs } from './spawn-ts';
export { testPrefix } from './test-prefix';
export { waitFor, type WaitForOptions } from './wait-for';

/** REDIS_URL set by the integration global setup (or by the caller's environment). */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error('REDIS_URL is not set: run integration tests through jest (its global setup starts redis-server)');
  }
  return url;
}
