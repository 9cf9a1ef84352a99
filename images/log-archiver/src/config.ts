import {
  brokerSettings,
  envChannels,
  envInt,
  healthSettings,
  loadConfig,
  orientDbSettings,
  runtimeSettings,
} from '@mupets/cargo';
import { USER_NAME_PATTERN, USER_NAME_RULE, USER_PASSWORD_MIN } from '@mupets/archive';
import { z } from 'zod';

/** Every setting of the log-archiver, from the environment (secrets also from `*_FILE`). */
export const configSchema = z
  .object({
    /** BROKER, REDIS_URL, KAFKA_BROKERS, KAFKA_PARTITIONS, BROKER_KEY_PREFIX (@mupets/cargo). */
    ...brokerSettings,
    /** ORIENTDB_HOST, _PORT, _USER, _PASSWORD, _DATABASE (@mupets/cargo). */
    ...orientDbSettings,
    /**
     * A reader user of the archive database, for the admin (which only reads, and so need not log in
     * as root): created at start, its password set again at every start (rotation). Unset: none.
     */
    ORIENTDB_READER_USER: z.string().regex(USER_NAME_PATTERN, USER_NAME_RULE).optional(),
    ORIENTDB_READER_PASSWORD: z.string().min(USER_PASSWORD_MIN).optional(),
    ARCHIVER_CHANNELS: envChannels(['logs', 'events', 'audit']),
    ARCHIVER_GROUP: z.string().min(1).default('log-archiver'),
    /** Messages per read and per OrientDB transaction. */
    ARCHIVER_BATCH_SIZE: envInt({ min: 1, max: 5000, default: 500 }),
    /**
     * Bytes per batch, at most (a consumer reads in parts until a batch of the largest envelopes would
     * pass it): with ARCHIVER_CONCURRENCY, what bounds the memory batches take.
     */
    ARCHIVER_BATCH_BYTES: envInt({ min: 65_536, max: 1_073_741_824, default: 8_388_608 }),
    /** Consumers per channel in this process, each writing its own batches. */
    ARCHIVER_CONCURRENCY: envInt({ min: 1, max: 16, default: 2 }),
    /** The longest a read waits for the first message of a batch. */
    ARCHIVER_MAX_WAIT_MS: envInt({ min: 10, max: 60_000, default: 1000 }),
    /** A message pending this long (its archiver died) is taken over by another. */
    ARCHIVER_MIN_IDLE_MS: envInt({ min: 1000, default: 60_000 }),
    ARCHIVER_MAX_DELIVERIES: envInt({ min: 1, default: 10 }),
    /** Records older than this many days are deleted; 0 keeps everything. */
    ARCHIVER_RETENTION_DAYS: envInt({ min: 0, default: 30 }),
    ARCHIVER_RETENTION_INTERVAL_MS: envInt({ min: 1000, default: 3_600_000 }),
    /** After archiving, streams are trimmed to about this many entries (never un-acked ones); 0 never trims. */
    ARCHIVER_STREAM_MAX_LEN: envInt({ min: 0, default: 1_000_000 }),
    /** How often the streams are trimmed. */
    ARCHIVER_TRIM_INTERVAL_MS: envInt({ min: 1000, default: 60_000 }),
    /**
     * At start and after each OrientDB outage, the messages of this many ms before the last one read
     * are written again (idempotent): OrientDB can lose its last second of commits when killed.
     */
    ARCHIVER_REPLAY_WINDOW_MS: envInt({ min: 0, default: 10_000 }),
    /** HEALTH_PORT, HEALTH_HOST (@mupets/cargo). */
    ...healthSettings,
    /** LOG_LEVEL, LOG_FORMAT, SHUTDOWN_DEADLINE_MS (@mupets/cargo). */
    ...runtimeSettings,
  })
  .superRefine((config, context) => {
    if (config.ORIENTDB_READER_USER !== undefined && config.ORIENTDB_READER_PASSWORD === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['ORIENTDB_READER_PASSWORD'],
        message: 'required with ORIENTDB_READER_USER',
      });
    }
    if (config.ORIENTDB_READER_USER === undefined && config.ORIENTDB_READER_PASSWORD !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['ORIENTDB_READER_USER'],
        message: 'required with ORIENTDB_READER_PASSWORD',
      });
    }
  });

export type ArchiverConfig = ReturnType<typeof loadArchiverConfig>;

export function loadArchiverConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(configSchema, env);
}
