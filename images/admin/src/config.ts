import {
  brokerSettings,
  envBool,
  envChannels,
  envInt,
  envUrl,
  loadConfig,
  orientDbSettings,
  runtimeSettings,
  type LoadConfigOptions,
} from '@mupets/cargo';
import { z } from 'zod';

/** A byte size as body-parser takes it: `262144`, `256kb`, `1mb`. */
const byteSize = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^\d+(b|kb|mb)?$/, 'must be a size like 262144, 256kb or 1mb')
  .default('256kb');

/** A trusted proxy: an address, a subnet, or one of express's names for a range. */
const proxyAddress = z.union([
  z.ipv4(),
  z.ipv6(),
  z.cidrv4(),
  z.cidrv6(),
  z.enum(['loopback', 'linklocal', 'uniquelocal']),
]);

/**
 * Which reverse proxies the admin believes about the client's address (`X-Forwarded-For`), as
 * express's `trust proxy` takes it: `false` (none: the address is the peer's), a number of proxy
 * hops in front of the admin, or a comma-separated list of proxy addresses and subnets. `true`
 * (believe anyone) is refused: any client could then pick its own address and dodge the login limit.
 */
const trustProxy = z
  .string()
  .trim()
  .default('false')
  .transform((value, context): false | number | string[] => {
    if (value === 'false' || value === '0') {
      return false;
    }
    if (/^\d{1,2}$/.test(value)) {
      return Number(value);
    }
    const list = value.split(',').map((item) => item.trim());
    if (list.every((item) => proxyAddress.safeParse(item).success)) {
      return list;
    }
    context.addIssue({
      code: 'custom',
      message:
        'false, a number of proxy hops, or a comma-separated list of proxy addresses, subnets or loopback/linklocal/uniquelocal',
    });
    return z.NEVER;
  });

/**
 * Every setting of the admin, from the environment (secrets also from `*_FILE`). The admin password
 * is not a setting: `ADMIN_PASSWORD_FILE` names the file that holds it (or its argon2 hash), read
 * once at start by `resolvePasswordHash`.
 */
export const configSchema = z.object({
  /** BROKER, REDIS_URL, KAFKA_BROKERS, KAFKA_PARTITIONS, BROKER_KEY_PREFIX (@mupets/cargo). */
  ...brokerSettings,
  /** Prefix of the ingest's API token keys on REDIS_URL (Redis is in the stack with either backbone); the ingest must use the same. */
  TOKENS_KEY_PREFIX: z.string().min(1).default('mupets:'),
  /** ORIENTDB_HOST, _PORT, _USER, _PASSWORD, _DATABASE (@mupets/cargo). */
  ...orientDbSettings,
  /** Port of the API, the UI and /healthz + /readyz. */
  ADMIN_PORT: envInt({ min: 0, max: 65_535, default: 8080 }),
  ADMIN_HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * File holding the admin password, or its argon2 hash (`$argon2id$...`). Unset: a random password
   * is generated on first start and written to `<ADMIN_DATA_DIR>/initial-password`.
   */
  ADMIN_PASSWORD_FILE: z.string().min(1).optional(),
  /** Where the first-run password file goes; a volume in production. */
  ADMIN_DATA_DIR: z.string().min(1).default('/data'),
  /** Default: true when NODE_ENV=production (see {@link loadAdminConfig}). */
  ADMIN_COOKIE_SECURE: envBool({}).optional(),
  /** A session unused this long ends. Default 8 h. */
  ADMIN_SESSION_TTL_MS: envInt({ min: 60_000, default: 8 * 3_600_000 }),
  /** A session ends this long after login, however busy. Default 24 h. */
  ADMIN_SESSION_MAX_AGE_MS: envInt({ min: 60_000, default: 24 * 3_600_000 }),
  /** Sessions held at once; the least recently used goes when a new one would exceed it. */
  ADMIN_MAX_SESSIONS: envInt({ min: 1, max: 100_000, default: 1000 }),
  /** Largest request body. Default 256 KiB. */
  ADMIN_BODY_LIMIT: byteSize,
  /** Login attempts per client address per minute. */
  ADMIN_LOGIN_RATE_LIMIT: envInt({ min: 1, max: 10_000, default: 10 }),
  /**
   * The reverse proxies in front of the admin (see {@link trustProxy}). Default `false`. Behind a
   * proxy without it every client has the proxy's address and shares one login limit.
   */
  ADMIN_TRUST_PROXY: trustProxy,
  /** The channels the live view, the broker page and event submission work on. */
  ADMIN_CHANNELS: envChannels(['logs', 'events', 'audit']),
  /** The compose project whose containers admin may see and control. Default: detected from its own container. */
  ADMIN_COMPOSE_PROJECT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'a compose project name: a-z 0-9 _ -')
    .optional(),
  DOCKER_SOCKET: z.string().min(1).default('/var/run/docker.sock'),
  /** Link to OrientDB Studio shown by the UI. */
  ADMIN_STUDIO_URL: envUrl({ protocols: ['http:', 'https:'] }).optional(),
  /**
   * Where the admin itself reaches Studio to tell whether it is up. Default: ADMIN_STUDIO_URL. In
   * compose the link is the host's address (127.0.0.1:2480), which inside the admin's container is
   * the admin itself, so the check goes to the service name (http://orientdb:2480/).
   */
  ADMIN_STUDIO_CHECK_URL: envUrl({ protocols: ['http:', 'https:'] }).optional(),
  /** The UI's built assets. Default: `web/dist` beside the package. */
  ADMIN_UI_DIR: z.string().min(1).optional(),
  /** Rebuild the UI on change (dev). */
  ADMIN_UI_WATCH: envBool({ default: false }),
  /** Live streams one session may hold open at once (429 over it). */
  ADMIN_MAX_STREAMS_PER_SESSION: envInt({ min: 1, max: 1000, default: 8 }),
  /** Live streams open at once, all sessions together (429 over it). */
  ADMIN_MAX_STREAMS: envInt({ min: 1, max: 100_000, default: 100 }),
  /** Time between SSE keep-alive comments. */
  ADMIN_SSE_HEARTBEAT_MS: envInt({ min: 1000, default: 15_000 }),
  NODE_ENV: z.string().default('development'),
  /** LOG_LEVEL, LOG_FORMAT, SHUTDOWN_DEADLINE_MS (@mupets/cargo). */
  ...runtimeSettings,
});

/** The admin's settings, parsed once, typed and frozen. */
export type AdminConfig = ReturnType<typeof loadAdminConfig>;

/**
 * Reads and validates the admin's configuration; throws a ConfigError listing every problem.
 * `ADMIN_COOKIE_SECURE` defaults to true when `NODE_ENV=production`.
 */
export function loadAdminConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options?: LoadConfigOptions,
) {
  const config = loadConfig(configSchema, env, options);
  return Object.freeze({
    ...config,
    ADMIN_COOKIE_SECURE: config.ADMIN_COOKIE_SECURE ?? config.NODE_ENV === 'production',
  });
}
