import Redis from 'ioredis';
import { redisUrl } from '@mupets/testkit';
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

/** A broker on the shared test Redis (global setup), connected. */
export async function openBroker(keyPrefix: string): Promise<Broker> {
  const broker = brokerFor(redisUrl(), keyPrefix);
  await broker.ready(5000);
  return broker;
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
