import winston, { type Logger } from 'winston';
import type { Broker, BrokerLogger } from '@mupets/broker';
import { BrokerTransport, LOCAL_ONLY, type BrokerTransportOptions } from './broker-transport';
import { envelopeIdFormat, jsonLineFormat, prettyLineFormat, redactFormat } from './log-format';

export type { Logger } from 'winston';

/** winston's npm levels, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

/** The logging that lifecycle and health server need; a winston logger (or child) satisfies it. */
export type ServiceLogger = Pick<BrokerLogger, 'info' | 'warn' | 'error'>;

/** What a broker transport needs besides the broker; the rest comes from the logger. */
export type BrokerTransportSettings = Omit<BrokerTransportOptions, 'broker' | 'service' | 'instance' | 'notify'>;

export interface LoggerOptions {
  /** Name of the service, on every entry and as the envelope's `source.service`. */
  service: string;
  /** Least severe level written. Default `info`. */
  level?: LogLevel;
  /** `json` (one object per line, for production) or `pretty` (one readable line, for development). Default `json`. */
  format?: LogFormat;
  /** Replica or container name, on every entry and as `source.instance`. Default: none. */
  instance?: string;
  /** Also publish every entry to this broker (see {@link BrokerTransport}). Default: stdout only. */
  broker?: Pick<Broker, 'publish'>;
  /** Channel for the broker transport. Default `logs`. */
  channel?: string;
  /** Buffer size, batch size and back-off of the broker transport. Defaults: see {@link BrokerTransportOptions}. */
  transportOptions?: BrokerTransportSettings;
  /** Where lines are written. Default `process.stdout`; tests pass a stream of their own. */
  stream?: NodeJS.WritableStream;
}

interface LoggerIdentity {
  readonly service: string;
  readonly instance: string | undefined;
  readonly channel: string;
  readonly transportOptions: BrokerTransportSettings | undefined;
}

const identities = new WeakMap<Logger, LoggerIdentity>();

/**
 * The one logger of a service: winston, stdout only, JSON in production and one readable line in
 * development; secrets in metadata are redacted and Errors keep name, message, stack and cause.
 * Components take `logger.child({ component: 'consumer' })`. With `broker`, every entry is also
 * published to the `logs` channel; when the broker needs this logger first, create the logger
 * without it and call {@link attachBroker} once the broker exists.
 */
export function createLogger(options: LoggerOptions): Logger {
  if (typeof options.service !== 'string' || options.service.length === 0) {
    throw new TypeError('createLogger: service must be a non-empty string');
  }
  const format = options.format ?? 'json';
  const defaultMeta: Record<string, string> = { service: options.service };
  if (options.instance !== undefined) {
    defaultMeta.instance = options.instance;
  }
  const logger = winston.createLogger({
    level: options.level ?? 'info',
    levels: winston.config.npm.levels,
    defaultMeta,
    // timestamp, envelope id and redaction run once, before every transport, so stdout and broker
    // agree: a collector reading stdout publishes the line under the id the transport used
    format: winston.format.combine(winston.format.timestamp(), envelopeIdFormat(), redactFormat()),
    transports: [
      // a Stream transport on stdout rather than winston's Console transport, which sends the
      // levels named in `stderrLevels` to stderr and writes through whatever `console` is patched to
      new winston.transports.Stream({
        stream: options.stream ?? process.stdout,
        format: format === 'pretty' ? prettyLineFormat() : jsonLineFormat(),
      }),
    ],
    exitOnError: false,
  });
  identities.set(logger, {
    service: options.service,
    instance: options.instance,
    channel: options.channel ?? 'logs',
    transportOptions: options.transportOptions,
  });
  if (options.broker) {
    attachBroker(logger, options.broker);
  }
  return logger;
}

/**
 * Adds the broker transport to a logger made by {@link createLogger}, for the usual start-up order:
 * logger first, then the broker (which logs through it), then this. Returns the transport, whose
 * `flush()` belongs in the shutdown sequence before the broker is closed.
 */
export function attachBroker(
  logger: Logger,
  broker: Pick<Broker, 'publish'>,
  options: BrokerTransportSettings = {},
): BrokerTransport {
  const identity = identities.get(logger);
  if (!identity) {
    throw new TypeError('attachBroker: the logger was not made by createLogger');
  }
  const transport = new BrokerTransport({
    ...identity.transportOptions,
    channel: identity.channel,
    ...options,
    broker,
    service: identity.service,
    ...(identity.instance === undefined ? {} : { instance: identity.instance }),
    // notices go through the logger so they look like every other line, marked stdout-only
    notify: (level, message, metadata) => {
      if (!logger.writable) {
        // the logger was ended: writing now would raise "write after end" in the service
        return;
      }
      logger.log({ level, message, component: 'broker-transport', ...metadata, [LOCAL_ONLY]: true });
    },
  });
  logger.add(transport);
  return transport;
}

/**
 * Delivers what the logger's broker transports still buffer, waiting at most `timeoutMs`.
 * Resolves true when nothing is left (also when there is no broker transport).
 */
export async function flushLogs(logger: Logger, timeoutMs = 5000): Promise<boolean> {
  const transports = logger.transports.filter(
    (transport): transport is BrokerTransport => transport instanceof BrokerTransport,
  );
  const results = await Promise.all(transports.map((transport) => transport.flush(timeoutMs)));
  return results.every(Boolean);
}
