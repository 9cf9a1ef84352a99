// The compose files run Redis with a memory bound and `noeviction` (named in each file, and checked here on the running server) (issue 14, item 11): without
// a bound a stuck consumer group grows Redis until the host kills it; with an evicting policy Redis
// would silently drop stream entries. This starts redis-server with each compose file's own
// arguments and shows the effect: when full, a publish is refused (the sender is told) and
// nothing stored is evicted.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { parse } from 'yaml';
import { startRedisServer, type RedisServer } from '@mupets/testkit';
import { createRedisBroker } from '@mupets/broker';

/**
 * The redis-server arguments of a compose file's redis service (its `command:`, a string or a list;
 * in prod redis-server is started through deploy/redis/start.sh, whose users redis-acl.test.ts
 * checks), with `${VAR:-default}` resolved to its default.
 */
function redisCommand(file: string): string[] {
  const compose = parse(readFileSync(resolve(__dirname, '../../..', file), 'utf8')) as {
    services: { redis: { command: string | string[] } };
  };
  const { command } = compose.services.redis;
  const words = typeof command === 'string' ? command.split(/\s+/) : command;
  const server = words.indexOf('redis-server');
  if (server < 0) {
    throw new Error(`${file}: no redis-server in the redis service's command`);
  }
  return words.slice(server + 1).map((arg) => arg.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1'));
}

describe.each(['docker-compose.dev.yml', 'docker-compose.prod.yml'])('%s', (file) => {
  let server: RedisServer | undefined;
  let admin: Redis | undefined;

  afterEach(async () => {
    admin?.disconnect();
    await server?.destroy();
  });

  test('Redis runs with a maxmemory bound and noeviction: when full a publish is refused, nothing stored is evicted', async () => {
    const args = redisCommand(file);
    server = await startRedisServer({ extraArgs: args });
    admin = new Redis(server.url);
    const [, maxmemory] = (await admin.config('GET', 'maxmemory')) as [string, string];
    const [, policy] = (await admin.config('GET', 'maxmemory-policy')) as [string, string];
    expect(Number(maxmemory)).toBeGreaterThan(0);
    expect(policy).toBe('noeviction');

    // the effect, at a size a test can fill
    const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
    await admin.config('SET', 'maxmemory', String(used + 2 * 1024 * 1024));
    const broker = createRedisBroker({ url: server.url, keyPrefix: 'full:', publishTimeoutMs: 2000 });
    try {
      await broker.ready(5000);
      const stored: string[] = [];
      let refused: unknown;
      const blob = 'x'.repeat(32 * 1024);
      for (let i = 0; i < 1000 && refused === undefined; i++) {
        try {
          stored.push(...(await broker.publish('logs', [{ type: 't', source: { service: 's' }, data: { i, blob } }])));
        } catch (error) {
          refused = error;
        }
      }
      expect(refused).toBeInstanceOf(Error);
      expect(stored.length).toBeGreaterThan(0);
      // every entry the broker confirmed is still there
      expect(await admin.xlen('full:logs')).toBe(stored.length);
    } finally {
      await broker.close();
    }
  });
});
