import { createBroker, parseBrokerConfig } from './create-broker';
import { BrokerConfigError } from './errors';

test('Redis is the default; Kafka is chosen with BROKER=kafka and KAFKA_BROKERS', () => {
  expect(parseBrokerConfig({ REDIS_URL: 'redis://redis:6379' })).toEqual({ kind: 'redis', url: 'redis://redis:6379' });
  expect(parseBrokerConfig({ BROKER: 'kafka', KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092' })).toEqual({
    kind: 'kafka',
    brokers: ['kafka-1:9092', 'kafka-2:9092'],
    partitions: 1,
  });
  expect(parseBrokerConfig({ BROKER: 'kafka', KAFKA_BROKERS: 'kafka:9092', KAFKA_PARTITIONS: '6' })).toMatchObject({
    partitions: 6,
  });
});

test('every problem is named at once, with the variable and the rule', () => {
  const error = (selection: Parameters<typeof parseBrokerConfig>[0]): BrokerConfigError => {
    try {
      parseBrokerConfig(selection);
    } catch (thrown) {
      return thrown as BrokerConfigError;
    }
    throw new Error('expected a BrokerConfigError');
  };
  expect(error({ BROKER: 'rabbit' }).problems).toEqual(['BROKER: must be "redis" or "kafka", got "rabbit"']);
  expect(error({}).problems).toEqual(['REDIS_URL: required when BROKER=redis']);
  expect(error({ REDIS_URL: 'http://x' }).problems).toEqual(['REDIS_URL: must be a redis:// or rediss:// URL']);
  const kafka = error({ BROKER: 'kafka', KAFKA_BROKERS: 'kafka', KAFKA_PARTITIONS: '0' });
  expect(kafka).toBeInstanceOf(BrokerConfigError);
  expect(kafka.code).toBe('BROKER_CONFIG_INVALID');
  expect(kafka.problems).toEqual([
    'KAFKA_BROKERS: must be host:port, comma-separated, got "kafka"',
    'KAFKA_PARTITIONS: must be an integer from 1 to 10000, got "0"',
  ]);
  expect(kafka.message).toBe(`invalid broker configuration: ${kafka.problems.join('; ')}`);
  expect(error({ BROKER: 'kafka' }).problems).toEqual(['KAFKA_BROKERS: required when BROKER=kafka']);
  expect(
    error({ BROKER: 'kafka', KAFKA_BROKERS: 'kafka:9092', KAFKA_USERNAME: 'archiver', KAFKA_SASL_MECHANISM: 'MD5' })
      .problems,
  ).toEqual([
    'KAFKA_SASL_MECHANISM: must be one of SCRAM-SHA-512, SCRAM-SHA-256, PLAIN',
    'KAFKA_PASSWORD: required with KAFKA_USERNAME',
  ]);
  expect(error({ BROKER: 'kafka', KAFKA_BROKERS: 'kafka:9092', KAFKA_PASSWORD: 'secret' }).problems).toEqual([
    'KAFKA_USERNAME: required with KAFKA_PASSWORD',
  ]);
});

test('a Kafka user logs in with SCRAM-SHA-512 unless told otherwise', () => {
  const selection = { BROKER: 'kafka', KAFKA_BROKERS: 'kafka:9092', KAFKA_USERNAME: 'archiver', KAFKA_PASSWORD: 'pw' };
  expect(parseBrokerConfig(selection)).toMatchObject({
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'archiver', password: 'pw' },
  });
  expect(parseBrokerConfig({ ...selection, KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256' })).toMatchObject({
    sasl: { mechanism: 'SCRAM-SHA-256' },
  });
});

test('a bad prefix for the chosen backend fails at once, naming the option and its rule', () => {
  // a Kafka broker connects lazily: building one touches no network
  expect(() => createBroker({ BROKER: 'kafka', KAFKA_BROKERS: 'kafka:9092' }, { prefix: 'mupets:' })).toThrow(
    'topicPrefix must be up to 100 of a-z A-Z 0-9 . _ -, got "mupets:"',
  );
  expect(() => createBroker({ BROKER: 'kafka', KAFKA_BROKERS: 'kafka:9092' }, { maxMessageBytes: 2_000_000 })).toThrow(
    'maxMessageBytes must be an integer from 1 to 900000, got 2000000',
  );
});
