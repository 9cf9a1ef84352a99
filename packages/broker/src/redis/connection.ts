import Redis, { type RedisOptions } from 'ioredis';
import type { BrokerLogger } from '../logger';

/**
 * ioredis settings shared by every broker connection. The broker owns retrying: with the offline
 * queue off and no automatic resend, a command either gets a reply or fails fast, and the caller
 * (publisher, consumer, tail) decides what to do; ioredis never replays a write behind our back.
 * `maxRetriesPerRequest: 0` matters: without it, ioredis 5 (autoResend off) silently forgets the
 * commands that were in flight when the connection dropped, and their promises never settle.
 */
export const CONNECTION_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  enableReadyCheck: true,
  lazyConnect: false,
  retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
};

/**
 * Where a connection goes and as whom. The URL need not carry a secret: an ACL user and its
 * password (read from a file by the service's config) travel beside it and never reach a log.
 */
export interface RedisTarget {
  /** `redis://host:port[/db]` (or `rediss://`); credentials in it work too, `username`/`password` win. */
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/** The ioredis options that log in as `target`'s user (none when it names none). */
export function credentialsOf(target: RedisTarget): RedisOptions {
  return {
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
  };
}

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '(unparseable url)';
  }
}

const closing = new WeakSet<Redis>();

/**
 * Closes a connection on purpose (no "connection lost" warning). `graceful`: QUIT when connected,
 * so replies in flight arrive first; otherwise (and for connections that may sit in a blocking
 * read, where QUIT would wait for the block to end) a plain disconnect.
 */
export async function closeConnection(redis: Redis, { graceful = false }: { graceful?: boolean } = {}): Promise<void> {
  closing.add(redis);
  if (redis.status === 'end') {
    return;
  }
  if (graceful && redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // fall through to a hard disconnect
    }
  }
  redis.disconnect();
}

/** Opens a connection that logs loss and recovery once per outage, not once per reconnect attempt. */
export function openConnection(
  target: RedisTarget,
  role: string,
  logger: BrokerLogger,
  extra: RedisOptions = {},
): Redis {
  const redis = new Redis(target.url, {
    ...CONNECTION_OPTIONS,
    ...credentialsOf(target),
    connectionName: `mupets:${role}`,
    ...extra,
  });
  let downSince: number | undefined;
  let everReady = false;
  const where = redactUrl(target.url);
  redis.on('ready', () => {
    if (downSince !== undefined) {
      logger.info('redis connection recovered', {
        role,
        url: where,
        downMs: Math.round(performance.now() - downSince),
      });
    }
    downSince = undefined;
    everReady = true;
  });
  redis.on('close', () => {
    if (downSince === undefined && everReady && !closing.has(redis)) {
      downSince = performance.now();
      logger.warn('redis connection lost', { role, url: where });
    }
  });
  redis.on('error', (error: Error) => {
    // ioredis emits one error per failed attempt; 'close' already said we are down
    if (!everReady && downSince === undefined) {
      downSince = performance.now();
      logger.warn('redis not reachable yet', { role, url: where, error: error.message });
    }
  });
  return redis;
}

/** Resolves when the connection is ready; rejects if it ends, or after `timeoutMs` when given. */
export function waitForReady(redis: Redis, timeoutMs?: number): Promise<void> {
  if (redis.status === 'ready') {
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      if (timer) {
        clearTimeout(timer);
      }
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('connection closed'));
    };
    redis.on('ready', onReady);
    redis.on('end', onEnd);
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(new Error(`not connected after ${timeoutMs} ms`));
      }, timeoutMs);
    }
  });
}

const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|READONLY|NOREPLICAS|OOM|CLUSTERDOWN)\b/;

/**
 * True for failures worth retrying: the connection dropped or was not writable, or Redis said it is
 * temporarily unable (loading its AOF, out of memory, failing over). False for replies that will
 * never change (WRONGTYPE, syntax).
 */
export function isTransientRedisError(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  if (error.name === 'ReplyError') {
    return TRANSIENT_REPLY.test(error.message);
  }
  return true;
}
