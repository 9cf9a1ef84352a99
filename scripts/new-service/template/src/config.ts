import { assertName, NAME_RULE } from '@mupets/broker';
import { brokerSettings, envInt, healthSettings, loadConfig, runtimeSettings } from '@mupets/cargo';
import { z } from 'zod';

/** A channel or consumer group name, by the broker's own rule. */
const brokerName = z.string().refine((name) => {
  try {
    assertName('channel', name);
    return true;
  } catch {
    return false;
  }
}, NAME_RULE);

/**
 * Every setting of cargo-template, from the environment; each may instead come from a file named by
 * `<NAME>_FILE` (Docker secrets). Defaults make the dev stack work with no .env file.
 */
export const configSchema = z.object({
  /** BROKER, REDIS_URL, KAFKA_BROKERS, KAFKA_PARTITIONS, BROKER_KEY_PREFIX (@mupets/cargo). */
  ...brokerSettings,
  /** The channel greeting requests travel on. */
  CARGO_TEMPLATE_CHANNEL: brokerName.default('template-channel'),
  // <consume>
  /** The consumer group of this service: its replicas share the channel's entries. */
  CARGO_TEMPLATE_GROUP: brokerName.default('cargo-template'),
  /** Where the greetings this service makes are published. */
  CARGO_TEMPLATE_EVENTS_CHANNEL: brokerName.default('events'),
  /** Deliveries after which an entry that keeps failing goes to the dead-letter channel. */
  CARGO_TEMPLATE_MAX_DELIVERIES: envInt({ min: 1, max: 100, default: 5 }),
  // </consume>
  // <http>
  /** The port of the HTTP API. */
  CARGO_TEMPLATE_PORT: envInt({ min: 0, max: 65_535, default: 3000 }),
  CARGO_TEMPLATE_HOST: z.string().min(1).default('0.0.0.0'),
  /** Bearer token the API asks for; a secret: set CARGO_TEMPLATE_API_TOKEN_FILE in production. */
  CARGO_TEMPLATE_API_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  // </http>
  /** /healthz, /readyz and /metrics (the image's HEALTHCHECK probes /readyz here). */
  ...healthSettings,
  /** LOG_LEVEL, LOG_FORMAT, SHUTDOWN_DEADLINE_MS (@mupets/cargo). */
  ...runtimeSettings,
});

export type CargoTemplateConfig = ReturnType<typeof loadCargoTemplateConfig>;

/** The validated, frozen configuration; throws a ConfigError listing every problem. */
export function loadCargoTemplateConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
