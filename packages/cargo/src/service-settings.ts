import { z } from 'zod';
import { envEnum, envInt } from './env-schema';

/**
 * Settings fragments shared by the cargo services, one definition each: spread into a service's
 * config schema (`z.object({ ...brokerSettings, ...runtimeSettings, ... })`).
 */

/** Logging and shutdown, the same in every service. */
export const runtimeSettings = {
  LOG_LEVEL: envEnum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const, 'info'),
  LOG_FORMAT: envEnum(['json', 'pretty'] as const, 'json'),
  /** The whole shutdown must finish within this; keep compose's stop_grace_period above it. */
  SHUTDOWN_DEADLINE_MS: envInt({ min: 1000, default: 15_000 }),
};

/** /healthz, /readyz and /metrics, for a service whose own port (if any) serves something else. */
export const healthSettings = {
  HEALTH_PORT: envInt({ min: 0, max: 65_535, default: 8080 }),
  HEALTH_HOST: z.string().min(1).default('0.0.0.0'),
};

/** The archive's OrientDB: the log-archiver writes it (as root, which may create it), the admin reads it. */
export const orientDbSettings = {
  ORIENTDB_HOST: z.string().min(1).default('orientdb'),
  ORIENTDB_PORT: envInt({ min: 1, max: 65_535, default: 2424 }),
  ORIENTDB_USER: z.string().min(1).default('root'),
  ORIENTDB_PASSWORD: z.string().min(1),
  ORIENTDB_DATABASE: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -')
    .default('mupets'),
};
