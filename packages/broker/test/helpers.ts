import Redis from 'ioredis';
import { redisUrl, testPrefix } from '@mupets/testkit';
import {
  createRedisBroker,
  type Broker,
  type Envelope,
  type MessageInput,
  type RedisBrokerOptions,
} from '@mupets/broker';

/** A small valid message; `i` makes each one recognisable. */
export function message(i: number, extra: Partial<MessageInput> = {}): MessageInput {
  return { type: 'test.event', source: { service: 'broker-test' }, data: { i }, ...extra };
}

export function brokerFor(url: string, keyPrefix: string, options: Partial<RedisBrokerOptions> = {}): Broker {
  return createRedisBroker({ url, keyPrefix, ...options });
}

/**
 * For a test file on the shared test Redis (global setup): its own key prefix, and a broker opened
 * before its tests and closed after them (`file.broker` is usable inside tests and hooks).
 */
export function brokerPerFile(file: string): { readonly prefix: string; readonly broker: Broker } {
  const prefix = testPrefix(file);
  let broker: Broker | undefined;
  beforeAll(async () => {
    broker = brokerFor(redisUrl(), prefix);
    await broker.ready(5000);
  });
  afterAll(async () => {
    await broker?.close();
  });
  return {
    prefix,
    get broker(): Broker {
      if (!broker) {
        throw new Error('brokerPerFile: the broker opens in beforeAll; use it inside tests');
      }
      return broker;
    },
  };
}

/** Every envelope stored in a stream, read straight from Redis (not through the code under test). */
export async function readStream(url: string, key: string): Promise<Array<{ id: string; envelope: Envelope }>> {
  const redis = new Redis(url);
  try {
    const out: Array<{ id: string; envelope: Envelope }> = [];
    let start = '-';
    for (;;) {
      const rows = await redis.xrange(key, start, '+', 'COUNT', 5000);
      for (const [id, fields] of rows) {
        out.push({ id, envelope: JSON.parse(fields[1]!) as Envelope });
      }
      if (rows.length < 5000) {
        return out;
      }
      start = `(${rows[rows.length - 1]![0]}`;
    }
  } finally {
    redis.disconnect();
  }
}
