import { z } from 'zod';
import { createBroker, type Broker, type CommonBrokerOptions } from '@mupets/broker';
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
  /** With BROKER=kafka: bootstrap brokers, host:port, comma-separated. */
  KAFKA_BROKERS: z.string().min(1).default('kafka:9092'),
  /** With BROKER=kafka: partitions of the topics a service creates (consumers of a group share them). */
  KAFKA_PARTITIONS: envInt({ min: 1, max: 10_000, default: 1 }),
  /** Prefix of the stream keys (Redis, default `mupets:`) or topics and group ids (Kafka, default `mupets.`). */
  BROKER_KEY_PREFIX: z.string().min(1).optional(),
};

/** A loaded config holding {@link brokerSettings}. */
export interface BrokerSettings {
  readonly BROKER: 'redis' | 'kafka';
  readonly REDIS_URL: string;
  readonly KAFKA_BROKERS: string;
  readonly KAFKA_PARTITIONS: number;
  readonly BROKER_KEY_PREFIX?: string | undefined;
}

/** The broker a service's settings select; `options` as createBroker's (the prefix comes from the settings). */
export function connectBroker(settings: BrokerSettings, options: Omit<CommonBrokerOptions, 'prefix'> = {}): Broker {
  return createBroker(
    {
      BROKER: settings.BROKER,
      REDIS_URL: settings.REDIS_URL,
      KAFKA_BROKERS: settings.KAFKA_BROKERS,
      KAFKA_PARTITIONS: settings.KAFKA_PARTITIONS,
    },
    { ...options, ...(settings.BROKER_KEY_PREFIX ? { prefix: settings.BROKER_KEY_PREFIX } : {}) },
  );
}
