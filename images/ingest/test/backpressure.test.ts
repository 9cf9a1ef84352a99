import { startRedisServer, type RedisServer } from '@mupets/testkit';
import { TokenStore } from '@mupets/tokens';
import Redis from 'ioredis';
import supertest from 'supertest';
import { createApp } from '../src/app';
import { loadIngestConfig } from '../src/config';
import { RateLimiter } from '../src/rate-limiter';
import { errorOf, startTestIngest, type TestIngest } from './helpers';

// the broker on a Redis of its own, which these tests pause and stop; the tokens on the shared one
let server: RedisServer;
let ingest: TestIngest;
let token: string;

beforeAll(async () => {
  server = await startRedisServer();
  ingest = startTestIngest({
    file: __filename,
    brokerUrl: server.url,
    env: { INGEST_PUBLISH_TIMEOUT_MS: '1500', INGEST_RETRY_AFTER_S: '7' },
    brokerOptions: { maxBufferedMessages: 4 },
  });
  token = (await ingest.token()).token;
  await ingest.broker.ready(10_000);
});

afterAll(async () => {
  await ingest.close();
  await server.destroy();
});

const send = (count: number, tag: string) =>
  supertest(ingest.app)
    .post('/v1/channels/events/messages')
    .set('authorization', `Bearer ${token}`)
    .set('content-type', 'application/json')
    .send(Array.from({ length: count }, (_, i) => ({ id: `${tag}-${i}`, type: 'bp', source: { service: 'py-shop' } })))
    .then((answer) => answer);

async function storedIds(): Promise<string[]> {
  const redis = new Redis(server.url);
  try {
    const entries = await redis.xrange(`${ingest.prefix}events`, '-', '+');
    return entries.map(([, fields]) => (JSON.parse(fields[1]!) as { id: string }).id);
  } finally {
    redis.disconnect();
  }
}

test('a slow broker: the request waits for the store, a second one over the buffer is 503 at once; what got 200 is stored', async () => {
  const admin = new Redis(server.url);
  try {
    await admin.client('PAUSE', 1500, 'WRITE');
    const slow = send(3, 'slow');
    // the first batch holds 3 of the buffer's 4 places while Redis is paused
    const refused = await send(3, 'refused');
    expect([refused.status, errorOf(refused).code, refused.headers['retry-after']]).toEqual([
      503,
      'broker_backpressure',
      '7',
    ]);
    const answer = await slow;
    expect(answer.status).toBe(200);
    const ids = await storedIds();
    expect(ids).toEqual(expect.arrayContaining(['slow-0', 'slow-1', 'slow-2']));
    expect(ids.some((id) => id.startsWith('refused'))).toBe(false);
  } finally {
    admin.disconnect();
  }
});

test('the broker down: 503 with Retry-After once the publish timeout passes; after it is back, requests store again', async () => {
  await server.stop();
  const down = await send(2, 'down');
  expect([down.status, errorOf(down).code, down.headers['retry-after']]).toEqual([503, 'broker_unavailable', '7']);
  await server.start();
  await ingest.broker.ready(10_000);
  const back = await send(2, 'back');
  expect(back.status).toBe(200);
  expect(await storedIds()).toEqual(expect.arrayContaining(['back-0', 'back-1']));
});

test('the token store down: 503 with Retry-After, not 401 (a valid token is never refused as unknown)', async () => {
  const closed = new Redis('redis://127.0.0.1:1', {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  try {
    const app = createApp({
      config: loadIngestConfig({ INGEST_RETRY_AFTER_S: '3' }),
      broker: ingest.broker,
      tokens: new TokenStore({ redis: closed }),
      limiter: new RateLimiter(),
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const answer = await supertest(app)
      .post('/v1/channels/events/messages')
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'application/json')
      .send({ type: 'x', source: { service: 'py-shop' } });
    expect([answer.status, errorOf(answer).code, answer.headers['retry-after']]).toEqual([
      503,
      'token_store_unavailable',
      '3',
    ]);
  } finally {
    closed.disconnect();
  }
});
