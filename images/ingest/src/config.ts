import {
  brokerSettings,
  envInt,
  healthSettings,
  loadConfig,
  runtimeSettings,
  type LoadConfigOptions,
} from '@mupets/cargo';
import { scopeChannel } from '@mupets/tokens';
import { z } from 'zod';

/** A byte size as body-parser takes it: `262144`, `256kb`, `5mb`. */
const byteSize = (fallback: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^\d+(b|kb|mb)?$/, 'must be a size like 262144, 256kb or 5mb')
    .default(fallback);

/** Every setting of the ingest, from the environment (secrets also from `*_FILE`); docs/ingest.md lists them. */
export const configSchema = z.object({
  /** BROKER, REDIS_URL, KAFKA_BROKERS, KAFKA_PARTITIONS, BROKER_KEY_PREFIX (@mupets/cargo). */
  ...brokerSettings,
  /** Prefix of the token keys on Redis; the admin must use the same. */
  TOKENS_KEY_PREFIX: z.string().min(1).default('mupets:'),
  /** The port of the door: the native endpoint and OTLP/HTTP (4318 is OTLP/HTTP's registered port). */
  INGEST_PORT: envInt({ min: 0, max: 65_535, default: 4318 }),
  INGEST_HOST: z.string().min(1).default('0.0.0.0'),
  /** Largest request body, after decompression. */
  INGEST_BODY_LIMIT: byteSize('5mb'),
  /** Largest NDJSON line, in bytes (the envelope's own limit, 64 KiB, applies to each record too). */
  INGEST_MAX_LINE_BYTES: envInt({ min: 256, max: 16 * 1024 * 1024, default: 64 * 1024 }),
  /** Most records in one request (a batch waits whole in the broker's buffer of 10 000). */
  INGEST_MAX_RECORDS: envInt({ min: 1, max: 10_000, default: 5000 }),
  /** How long a request may wait for the broker to store its batch before it is answered 503. */
  INGEST_PUBLISH_TIMEOUT_MS: envInt({ min: 100, max: 120_000, default: 10_000 }),
  /** The Retry-After of a 503 (broker unavailable or its buffer full), in seconds. */
  INGEST_RETRY_AFTER_S: envInt({ min: 1, max: 3600, default: 5 }),
  /** The channel OTLP log records go to. */
  INGEST_OTLP_CHANNEL: scopeChannel.default('logs'),
  /** HEALTH_PORT, HEALTH_HOST (@mupets/cargo). */
  ...healthSettings,
  /** LOG_LEVEL, LOG_FORMAT, SHUTDOWN_DEADLINE_MS (@mupets/cargo). */
  ...runtimeSettings,
});

export type IngestConfig = ReturnType<typeof loadIngestConfig>;

/** Reads and validates the ingest's configuration; throws a ConfigError listing every problem. */
export function loadIngestConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options?: LoadConfigOptions,
) {
  return loadConfig(configSchema, env, options);
}
