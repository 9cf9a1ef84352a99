import { z } from 'zod';
import { brokerSettings } from './broker-config';
import { ConfigError, loadConfig } from './config';

const schema = z.object({ ...brokerSettings });

describe('brokerSettings', () => {
  it('defaults to Redis, one Kafka partition, no prefix, no user (SCRAM-SHA-512 when there is one)', () => {
    expect(loadConfig(schema, {})).toEqual({
      BROKER: 'redis',
      REDIS_URL: 'redis://redis:6379',
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_PARTITIONS: 1,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
    });
  });

  it("reads the Redis and Kafka users' passwords from files", () => {
    const files: Record<string, string> = { '/run/secrets/broker': 'pw-from-the-file\n' };
    const config = loadConfig(
      schema,
      {
        REDIS_USERNAME: 'archiver',
        REDIS_PASSWORD_FILE: '/run/secrets/broker',
        KAFKA_USERNAME: 'archiver',
        KAFKA_PASSWORD_FILE: '/run/secrets/broker',
      },
      { readFile: (path: string) => files[path]! },
    );
    expect(config).toMatchObject({ REDIS_PASSWORD: 'pw-from-the-file', KAFKA_PASSWORD: 'pw-from-the-file' });
    let error: unknown;
    try {
      loadConfig(schema, { KAFKA_SASL_MECHANISM: 'MD5', KAFKA_PASSWORD: 'x' });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toMatch(
      /KAFKA_SASL_MECHANISM: must be one of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN/,
    );
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
