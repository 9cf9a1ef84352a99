import { BrokerConfigError } from './errors';
import { createKafkaBroker, parseKafkaBrokers } from './kafka/broker';
import { KAFKA_SASL_MECHANISMS, type KafkaCredentials } from './kafka/client';
import type { BrokerLogger } from './logger';
import { createRedisBroker } from './redis/broker';
import type { Broker } from './types';

/** The settings that choose and locate the backend, named as the environment variables that carry them. */
export interface BrokerSelection {
  /** `redis` (the default) or `kafka`. */
  readonly BROKER?: string;
  /** With `BROKER=redis`: `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  readonly REDIS_URL?: string;
  /** With `BROKER=redis`: the ACL user to log in as, when Redis has ACL users (the prod stack). */
  readonly REDIS_USERNAME?: string | undefined;
  /** Its password (from `REDIS_PASSWORD_FILE` in a cargo service's config). */
  readonly REDIS_PASSWORD?: string | undefined;
  /** With `BROKER=kafka`: bootstrap brokers, `host:port`, comma-separated. */
  readonly KAFKA_BROKERS?: string;
  /** With `BROKER=kafka`: partitions of the topics the broker creates. Default 1. */
  readonly KAFKA_PARTITIONS?: string | number;
  /** With `BROKER=kafka`: the SASL user to log in as, when Kafka requires one (the prod stack). */
  readonly KAFKA_USERNAME?: string | undefined;
  /** Its password (from `KAFKA_PASSWORD_FILE` in a cargo service's config). */
  readonly KAFKA_PASSWORD?: string | undefined;
  /** `SCRAM-SHA-512` (default), `SCRAM-SHA-256` or `PLAIN`. */
  readonly KAFKA_SASL_MECHANISM?: string | undefined;
}

/** A validated selection. */
export type BrokerConfig =
  | {
      readonly kind: 'redis';
      readonly url: string;
      readonly username?: string | undefined;
      readonly password?: string | undefined;
    }
  | {
      readonly kind: 'kafka';
      readonly brokers: readonly string[];
      readonly partitions: number;
      readonly sasl?: KafkaCredentials | undefined;
    };

/** What both backends understand; the rest of each backend's options keep their defaults. */
export interface CommonBrokerOptions {
  logger?: BrokerLogger;
  /** Prefix of stream keys (Redis, default `mupets:`) or of topics and group ids (Kafka, default `mupets.`). */
  prefix?: string;
  maxMessageBytes?: number;
  maxBufferedMessages?: number;
  publishTimeoutMs?: number;
  onBufferFull?: 'reject' | 'wait';
  closeTimeoutMs?: number;
}

/**
 * Validates a selection fully: every problem is listed at once in one BrokerConfigError, each
 * naming the variable and the rule it breaks.
 */
export function parseBrokerConfig(selection: BrokerSelection): BrokerConfig {
  const kind = selection.BROKER || 'redis';
  if (kind !== 'redis' && kind !== 'kafka') {
    throw new BrokerConfigError([`BROKER: must be "redis" or "kafka", got ${JSON.stringify(selection.BROKER)}`]);
  }
  return kind === 'redis' ? redisConfig(selection) : kafkaConfig(selection);
}

function redisConfig(selection: BrokerSelection): BrokerConfig {
  const url = selection.REDIS_URL;
  if (!url) {
    throw new BrokerConfigError(['REDIS_URL: required when BROKER=redis']);
  }
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new BrokerConfigError(['REDIS_URL: must be a redis:// or rediss:// URL']);
  }
  return { kind: 'redis', url, username: selection.REDIS_USERNAME, password: selection.REDIS_PASSWORD };
}

function kafkaConfig(selection: BrokerSelection): BrokerConfig {
  const problems: string[] = [];
  let brokers: string[] = [];
  if (!selection.KAFKA_BROKERS) {
    problems.push('KAFKA_BROKERS: required when BROKER=kafka');
  } else {
    try {
      brokers = parseKafkaBrokers(selection.KAFKA_BROKERS);
    } catch {
      problems.push(
        `KAFKA_BROKERS: must be host:port, comma-separated, got ${JSON.stringify(selection.KAFKA_BROKERS)}`,
      );
    }
  }
  const rawPartitions = selection.KAFKA_PARTITIONS;
  const partitions = rawPartitions === undefined || rawPartitions === '' ? 1 : Number(rawPartitions);
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
    problems.push(`KAFKA_PARTITIONS: must be an integer from 1 to 10000, got ${JSON.stringify(rawPartitions)}`);
  }
  const sasl = kafkaCredentials(selection, problems);
  if (problems.length > 0) {
    throw new BrokerConfigError(problems);
  }
  return { kind: 'kafka', brokers, partitions, sasl };
}

/** The SASL login the selection names, if any; each problem is added to `problems`. */
function kafkaCredentials(selection: BrokerSelection, problems: string[]): KafkaCredentials | undefined {
  const { KAFKA_USERNAME: username, KAFKA_PASSWORD: password } = selection;
  const mechanism = selection.KAFKA_SASL_MECHANISM || 'SCRAM-SHA-512';
  if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
    problems.push(`KAFKA_SASL_MECHANISM: must be one of ${KAFKA_SASL_MECHANISMS.join(', ')}`);
  }
  if (!username && !password) {
    return undefined;
  }
  if (!username || !password) {
    problems.push(
      `${username ? 'KAFKA_PASSWORD' : 'KAFKA_USERNAME'}: required with ${username ? 'KAFKA_USERNAME' : 'KAFKA_PASSWORD'}`,
    );
    return undefined;
  }
  return { mechanism: mechanism as KafkaCredentials['mechanism'], username, password };
}

/**
 * The broker the configuration selects: Redis Streams (`BROKER=redis`, the default, with
 * `REDIS_URL`) or Kafka (`BROKER=kafka`, with `KAFKA_BROKERS`). Services call this instead of a
 * backend's own factory and work unchanged on either. Throws BrokerConfigError for a bad selection.
 */
export function createBroker(selection: BrokerSelection | BrokerConfig, options: CommonBrokerOptions = {}): Broker {
  const config = 'kind' in selection ? selection : parseBrokerConfig(selection);
  const { prefix, ...common } = options;
  if (config.kind === 'redis') {
    return createRedisBroker({
      ...common,
      url: config.url,
      username: config.username,
      password: config.password,
      ...(prefix !== undefined ? { keyPrefix: prefix } : {}),
    });
  }
  return createKafkaBroker({
    ...common,
    brokers: config.brokers,
    partitions: config.partitions,
    ...(config.sasl ? { sasl: config.sasl } : {}),
    ...(prefix !== undefined ? { topicPrefix: prefix } : {}),
  });
}
