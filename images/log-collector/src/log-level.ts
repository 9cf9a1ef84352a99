import type { Level } from '@mupets/broker';

/** Names loggers use for a level, lower-cased, mapped to the envelope's levels. */
const NAMED: Readonly<Record<string, Level>> = {
  fatal: 'fatal',
  panic: 'fatal',
  dpanic: 'fatal',
  emerg: 'fatal',
  emergency: 'fatal',
  alert: 'fatal',
  crit: 'fatal',
  critical: 'fatal',
  severe: 'error',
  error: 'error',
  err: 'error',
  eror: 'error',
  warn: 'warn',
  warning: 'warn',
  wrn: 'warn',
  notice: 'info',
  info: 'info',
  inf: 'info',
  information: 'info',
  http: 'http',
  verbose: 'verbose',
  config: 'verbose',
  debug: 'debug',
  dbg: 'debug',
  fine: 'debug',
  finer: 'silly',
  finest: 'silly',
  trace: 'silly',
  trc: 'silly',
  silly: 'silly',
};

/**
 * The envelope level of a logger's level field: a name in any case (`WARNING`, `warn`, `Error`,
 * Java's `SEVERE`, Go's `DPANIC`), or a number as pino and bunyan write them (10 trace, 20 debug,
 * 30 info, 40 warn, 50 error, 60 fatal), or a Go slog offset name (`INFO+2`). Undefined when it is
 * none of these.
 */
export function normalizeLevel(value: unknown): Level | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (value >= 60) {
      return 'fatal';
    }
    if (value >= 50) {
      return 'error';
    }
    if (value >= 40) {
      return 'warn';
    }
    if (value >= 30) {
      return 'info';
    }
    if (value >= 20) {
      return 'debug';
    }
    return value >= 10 ? 'silly' : undefined;
  }
  if (typeof value !== 'string' || value.length > 16) {
    return undefined;
  }
  const name = value.trim().toLowerCase();
  if (/^\d+$/.test(name)) {
    return normalizeLevel(Number(name));
  }
  // slog writes levels between the named ones as `INFO+2`, `WARN-4`: the base name is close enough
  return NAMED[name] ?? NAMED[name.replace(/[+-]\d+$/, '')];
}
