import Redis from 'ioredis';
import { redisUrl, testPrefix } from '@mupets/testkit';
import { z } from 'zod';
import { hashToken, TokenStore, TokenStoreUnavailableError } from '@mupets/tokens';

let redis: Redis;
let store: TokenStore;
const prefix = testPrefix(__filename);

beforeAll(() => {
  redis = new Redis(redisUrl(), { lazyConnect: false });
  store = new TokenStore({ redis, keyPrefix: prefix });
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) {
    await redis.del(...keys);
  }
  await redis.quit();
});

test('a created token verifies to its record; only its sha-256 is stored', async () => {
  const { token, record } = await store.create({ name: 'py shop', channels: ['events'], services: ['py-shop'] });
  expect(record).toMatchObject({ name: 'py shop', channels: ['events'], services: ['py-shop'], ratePerSecond: 1000 });
  expect(token.startsWith(record.hint)).toBe(true);
  expect(await store.verify(token)).toEqual(record);

  const stored = await redis.hgetall(`${prefix}_tokens`);
  expect(Object.keys(stored)).toContain(hashToken(token));
  expect(JSON.stringify(stored)).not.toContain(token);
  expect(await redis.hget(`${prefix}_token-ids`, record.id)).toBe(hashToken(token));
});

test('an unknown, malformed or altered token verifies to nothing', async () => {
  const { token } = await store.create({ name: 'a', channels: ['logs'], services: ['a'] });
  expect(await store.verify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
  expect(await store.verify('')).toBeUndefined();
  expect(await store.verify('not a token')).toBeUndefined();
});

test('revoking: the token stops verifying at once, the record leaves the list, a second revoke finds nothing', async () => {
  const { token, record } = await store.create({ name: 'b', channels: ['logs'], services: ['b'], ratePerSecond: 5 });
  expect((await store.list()).map((r) => r.id)).toContain(record.id);
  expect(await store.revoke(record.id)).toEqual(record);
  expect(await store.verify(token)).toBeUndefined();
  expect((await store.list()).map((r) => r.id)).not.toContain(record.id);
  expect(await store.revoke(record.id)).toBeUndefined();
});

test('creation input is validated: each bad field named; admin, the audit and dead-letter channels and repeats refused', async () => {
  const attempt = store.create({
    name: '',
    channels: ['logs.dead', 'Bad Channel', 'audit'],
    services: ['admin', 'x', 'x'],
    ratePerSecond: 0,
  });
  await expect(attempt).rejects.toBeInstanceOf(z.ZodError);
  const error = (await attempt.catch((e: unknown) => e)) as z.ZodError;
  const paths = error.issues.map((issue) => issue.path.join('.'));
  expect(paths).toEqual(
    expect.arrayContaining([
      'name',
      'channels.0',
      'channels.1',
      'channels.2',
      'services.0',
      'services',
      'ratePerSecond',
    ]),
  );
  expect(error.issues.find((issue) => issue.path.join('.') === 'services.0')?.message).toContain('reserved');
  expect(error.issues.find((issue) => issue.path.join('.') === 'channels.2')?.message).toContain('audit trail');
});

test('Redis down: every operation fails with TokenStoreUnavailableError', async () => {
  const closed = new Redis('redis://127.0.0.1:1', {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  const down = new TokenStore({ redis: closed, keyPrefix: prefix });
  await expect(down.verify('mpt_' + 'a'.repeat(43))).rejects.toBeInstanceOf(TokenStoreUnavailableError);
  await expect(down.create({ name: 'x', channels: ['logs'], services: ['x'] })).rejects.toBeInstanceOf(
    TokenStoreUnavailableError,
  );
  await expect(down.list()).rejects.toBeInstanceOf(TokenStoreUnavailableError);
  closed.disconnect();
});
