import { z } from 'zod';
import { brokerSettings } from './broker-config';
import { ConfigError, loadConfig } from './config';

const schema = z.object({ ...brokerSettings });

describe('brokerSettings', () => {
  it('defaults to Redis, one Kafka partition, no prefix', () => {
    expect(loadConfig(schema, {})).toEqual({
      BROKER: 'redis',
      REDIS_URL: 'redis://redis:6379',
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_PARTITIONS: 1,
    });
  });

  it('reads KAFKA_PARTITIONS as a number', () => {
    expect(loadConfig(schema, { BROKER: 'kafka', KAFKA_PARTITIONS: '6' })).toMatchObject({
      BROKER: 'kafka',
      KAFKA_PARTITIONS: 6,
    });
  });

  it('names each bad setting and its rule', () => {
    let error: unknown;
    try {
      loadConfig(schema, { BROKER: 'rabbit', KAFKA_PARTITIONS: '0', REDIS_URL: 'http://x' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/BROKER/);
    expect(message).toMatch(/KAFKA_PARTITIONS/);
    expect(message).toMatch(/REDIS_URL/);
  });
});
