import { z } from 'zod';
import {
  createBroker,
  KAFKA_SASL_MECHANISMS,
  type Broker,
  type CommonBrokerOptions,
  type RedisTarget,
} from '@mupets/broker';
import { envEnum, envInt, envUrl } from './env-schema';

/**
 * The broker settings of every cargo service, one definition: spread into a service's config
 * schema (`z.object({ ...brokerSettings, ... })`), then {@link connectBroker}.
 */
export const brokerSettings = {
  /** The backbone: Redis Streams (default) or Kafka. */
  BROKER: envEnum(['redis', 'kafka'] as const, 'redis'),
  /** With BROKER=redis: the broker. Services that keep state in Redis (tokens, positions) use it with either. */
  REDIS_URL: envUrl({ protocols: ['redis:', 'rediss:'], default: 'redis://redis:6379' }),
  /** The Redis ACL user to log in as (the prod stack has one per role: deploy/redis/users.acl). Default: none. */
  REDIS_USERNAME: z.string().min(1).optional(),
  /** Its password; set REDIS_PASSWORD_FILE (a Docker secret) rather than the value. Default: none. */
  REDIS_PASSWORD: z.string().min(1).optional(),
  /** With BROKER=kafka: bootstrap brokers, host:port, comma-separated. */
  KAFKA_BROKERS: z.string().min(1).default('kafka:9092'),
  /** With BROKER=kafka: partitions of the topics a service creates (consumers of a group share them). */
  KAFKA_PARTITIONS: envInt({ min: 1, max: 10_000, default: 1 }),
  /** With BROKER=kafka: the SASL user to log in as (the prod stack's Kafka has one per role). Default: none. */
  KAFKA_USERNAME: z.string().min(1).optional(),
  /** Its password; set KAFKA_PASSWORD_FILE (a Docker secret) rather than the value. Default: none. */
  KAFKA_PASSWORD: z.string().min(1).optional(),
  /** The SASL mechanism: SCRAM-SHA-512 (default), SCRAM-SHA-256, or PLAIN (over TLS only). */
  KAFKA_SASL_MECHANISM: envEnum(KAFKA_SASL_MECHANISMS, 'SCRAM-SHA-512'),
  /** Prefix of the stream keys (Redis, default `mupets:`) or topics and group ids (Kafka, default `mupets.`). */
  BROKER_KEY_PREFIX: z.string().min(1).optional(),
};

/** A loaded config holding {@link brokerSettings}. */
export interface BrokerSettings {
  readonly BROKER: 'redis' | 'kafka';
  readonly REDIS_URL: string;
  readonly REDIS_USERNAME?: string | undefined;
  readonly REDIS_PASSWORD?: string | undefined;
  readonly KAFKA_BROKERS: string;
  readonly KAFKA_PARTITIONS: number;
  readonly KAFKA_USERNAME?: string | undefined;
  readonly KAFKA_PASSWORD?: string | undefined;
  readonly KAFKA_SASL_MECHANISM?: string | undefined;
  readonly BROKER_KEY_PREFIX?: string | undefined;
}

/**
 * Where a service's own Redis connections go (token store, positions), as the same user as its
 * broker: `openConnection(redisTarget(config), ...)`, or `credentialsOf` for a plain ioredis client.
 */
export function redisTarget(settings: BrokerSettings): RedisTarget {
  return { url: settings.REDIS_URL, username: settings.REDIS_USERNAME, password: settings.REDIS_PASSWORD };
}

/** The broker a service's settings select; `options` as createBroker's (the prefix comes from the settings). */
export function connectBroker(settings: BrokerSettings, options: Omit<CommonBrokerOptions, 'prefix'> = {}): Broker {
  return createBroker(
    {
      BROKER: settings.BROKER,
      REDIS_URL: settings.REDIS_URL,
      REDIS_USERNAME: settings.REDIS_USERNAME,
      REDIS_PASSWORD: settings.REDIS_PASSWORD,
      KAFKA_BROKERS: settings.KAFKA_BROKERS,
      KAFKA_PARTITIONS: settings.KAFKA_PARTITIONS,
      KAFKA_USERNAME: settings.KAFKA_USERNAME,
      KAFKA_PASSWORD: settings.KAFKA_PASSWORD,
      KAFKA_SASL_MECHANISM: settings.KAFKA_SASL_MECHANISM,
    },
    { ...options, ...(settings.BROKER_KEY_PREFIX ? { prefix: settings.BROKER_KEY_PREFIX } : {}) },
  );
}
