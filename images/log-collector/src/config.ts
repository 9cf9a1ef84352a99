import {
  brokerSettings,
  envChannel,
  envEnum,
  envInt,
  healthSettings,
  loadConfig,
  runtimeSettings,
} from '@mupets/cargo';
import { z } from 'zod';

const LEVEL = envEnum(['error', 'warn', 'info', 'debug'] as const, 'info');

/** Every setting of the log-collector, from the environment (secrets also from `*_FILE`). */
export const configSchema = z
  .object({
    /** BROKER, REDIS_URL, KAFKA_BROKERS, KAFKA_PARTITIONS, BROKER_KEY_PREFIX (@mupets/cargo). */
    ...brokerSettings,
    /** The Docker Engine API socket. */
    DOCKER_SOCKET: z.string().min(1).default('/var/run/docker.sock'),
    /** `project` (the containers of one compose project), `host` (every container), or `labels`. */
    COLLECTOR_SCOPE: envEnum(['project', 'host', 'labels'] as const, 'project'),
    /** With scope `project`: the compose project. Default: read from the collector's own container. */
    COLLECTOR_COMPOSE_PROJECT: z.string().optional(),
    /** With scope `labels`: comma-separated `key` or `key=value` terms, all of which must match. */
    COLLECTOR_LABELS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((term) => term.trim())
          .filter((term) => term.length > 0),
      )
      .pipe(z.array(z.string().regex(/^[^=\s]+(=[^\s]*)?$/, 'a label term is key or key=value'))),
    COLLECTOR_CHANNEL: envChannel('logs'),
    /** Records per publish. */
    COLLECTOR_BATCH_SIZE: envInt({ min: 1, max: 5000, default: 1000 }),
    /** Records held per container before reading it pauses. */
    COLLECTOR_BUFFER_RECORDS: envInt({ min: 10, max: 100_000, default: 5000 }),
    /** How long an open multi-line record waits for its next line. */
    COLLECTOR_MULTILINE_WAIT_MS: envInt({ min: 10, max: 10_000, default: 250 }),
    /** Level of a plain stdout line without a level marker. */
    COLLECTOR_STDOUT_LEVEL: LEVEL,
    /** Level of a plain stderr line without a level marker. */
    COLLECTOR_STDERR_LEVEL: LEVEL,
    /** `source.host` of every record. Default: the Docker node's name. */
    COLLECTOR_HOST_NAME: z.string().min(1).max(255).optional(),
    /** Key prefix of the positions in Redis. */
    COLLECTOR_POSITION_PREFIX: z.string().min(1).default('mupets:collector:position:'),
    /** HEALTH_PORT, HEALTH_HOST (@mupets/cargo). */
    ...healthSettings,
    /** LOG_LEVEL, LOG_FORMAT, SHUTDOWN_DEADLINE_MS (@mupets/cargo). */
    ...runtimeSettings,
  })
  .superRefine((config, context) => {
    if (config.COLLECTOR_SCOPE === 'labels' && config.COLLECTOR_LABELS.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['COLLECTOR_LABELS'],
        message: 'required with COLLECTOR_SCOPE=labels',
      });
    }
  });

export type CollectorConfig = ReturnType<typeof loadCollectorConfig>;

export function loadCollectorConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
