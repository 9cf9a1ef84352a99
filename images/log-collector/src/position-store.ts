import type Redis from 'ioredis';

/** Where reading a container's log resumes: after the `n`-th line stamped `ts`. */
export interface LogPosition {
  /** Docker's timestamp of the last line published (RFC 3339, nanoseconds). */
  ts: string;
  /** How many lines stamped exactly `ts` were published (Docker stamps several lines alike). */
  n: number;
}

/** A publish under way: the position it reaches and the envelope id of its last record. */
export interface LogIntent extends LogPosition {
  lastId: string;
  /** Epoch ms when the publish started. */
  at: number;
}

export interface StoredPosition {
  position?: LogPosition;
  intent?: LogIntent;
}

/**
 * Durable positions per container in Redis, one hash per container. Before a batch is published
 * its intent is written; after, the position. A collector killed in between finds the intent and
 * checks the channel for the batch's last id (see the collector), so a batch is neither skipped
 * nor published again.
 */
export interface PositionStore {
  load(containerId: string): Promise<StoredPosition>;
  /**
   * Records intents (one round trip for all containers of a batch), after committing `reached`:
   * the positions of the previous batch, so a steady stream costs one round trip per batch here.
   */
  begin(intents: ReadonlyMap<string, LogIntent>, reached?: ReadonlyMap<string, LogPosition>): Promise<void>;
  /** Records positions reached and clears their intents. */
  commit(positions: ReadonlyMap<string, LogPosition>): Promise<void>;
  remove(containerId: string): Promise<void>;
  ping(): Promise<void>;
}

/** A {@link PositionStore} on `redis`, keys `<prefix><containerId>`. */
export function createPositionStore(redis: Redis, prefix: string): PositionStore {
  const key = (containerId: string): string => `${prefix}${containerId}`;
  return {
    async load(containerId) {
      const hash = await redis.hgetall(key(containerId));
      const stored: StoredPosition = {};
      if (hash.ts && hash.n) {
        stored.position = { ts: hash.ts, n: Number(hash.n) };
      }
      if (hash.its && hash.in && hash.ilast && hash.iat) {
        stored.intent = { ts: hash.its, n: Number(hash.in), lastId: hash.ilast, at: Number(hash.iat) };
      }
      return stored;
    },
    async begin(intents, reached = new Map()) {
      const pipeline = redis.multi();
      for (const [containerId, position] of reached) {
        pipeline.hset(key(containerId), { ts: position.ts, n: String(position.n) });
        pipeline.hdel(key(containerId), 'its', 'in', 'ilast', 'iat');
      }
      for (const [containerId, intent] of intents) {
        pipeline.hset(key(containerId), {
          its: intent.ts,
          in: String(intent.n),
          ilast: intent.lastId,
          iat: String(intent.at),
        });
      }
      await execOrThrow(pipeline);
    },
    async commit(positions) {
      const pipeline = redis.multi();
      for (const [containerId, position] of positions) {
        pipeline.hset(key(containerId), { ts: position.ts, n: String(position.n) });
        pipeline.hdel(key(containerId), 'its', 'in', 'ilast', 'iat');
      }
      await execOrThrow(pipeline);
    },
    async remove(containerId) {
      await redis.del(key(containerId));
    },
    async ping() {
      await redis.ping();
    },
  };
}

async function execOrThrow(pipeline: ReturnType<Redis['multi']>): Promise<void> {
  const results = await pipeline.exec();
  const failed = results?.find(([error]) => error);
  if (failed?.[0]) {
    throw failed[0];
  }
}
