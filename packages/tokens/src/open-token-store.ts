import { credentialsOf, redactUrl, type BrokerLogger, type RedisTarget } from '@mupets/broker';
import Redis from 'ioredis';
import { TokenStore } from './token-store';

/** A token store on a connection of its own, for a service's main: what the admin and the ingest share. */
export interface OpenTokenStore {
  readonly store: TokenStore;
  /** Rejects while Redis is away (for readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects to the tokens' Redis (always in the stack, whichever backbone carries the channels) as
 * `target`'s user. No offline queue: while Redis is away a request is answered 503 at once instead
 * of waiting for a reconnect. Each distinct connection error is logged once, without credentials.
 */
export function openTokenStore(
  target: RedisTarget,
  options: { keyPrefix?: string; logger: Pick<BrokerLogger, 'warn'> },
): OpenTokenStore {
  const redis = new Redis(target.url, {
    ...credentialsOf(target),
    connectionName: 'mupets:tokens',
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
  });
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastError) {
      lastError = error.message;
      options.logger.warn('token store connection failed', { url: redactUrl(target.url), error: error.message });
    }
  });
  redis.on('ready', () => {
    lastError = '';
  });
  return {
    store: new TokenStore({ redis, ...(options.keyPrefix !== undefined ? { keyPrefix: options.keyPrefix } : {}) }),
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
