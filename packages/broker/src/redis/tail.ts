import type Redis from 'ioredis';
import type { BrokerLogger } from '../logger';
import { closeConnection, openConnection, waitForReady, type RedisTarget } from './connection';
import { isStreamId } from './stream-id';
import { backoffMs, sleep } from '../sleep';
import { entriesOf, parseEntry } from './entry';
import { tailOf } from '../tail-of';
import type { StreamEntry, Tail, TailOptions } from '../types';

/**
 * Follows a stream with plain XREAD BLOCK on a connection of its own (no group, nothing acked):
 * for live views. The id of the last entry seen is the cursor; reconnects resume from it, so a
 * Redis restart causes neither a gap nor a repeat.
 */
export function openTail(
  main: Redis,
  target: RedisTarget,
  key: string,
  channel: string,
  logger: BrokerLogger,
  options: TailOptions = {},
  onClose: (tail: Tail) => void = () => undefined,
): Tail {
  const fromId = options.fromId ?? '$';
  if (fromId !== '$' && fromId !== '0' && !isStreamId(fromId)) {
    throw new RangeError(
      `tail fromId must be "$", "0" or a stream id like 1700000000000-0, got ${JSON.stringify(fromId)}`,
    );
  }
  const blockMs = options.blockMs ?? 5000;
  const count = options.count ?? 500;
  const conn: Redis = openConnection(target, `tail:${channel}`, logger);
  let closed = false;
  // "$" means "after what is stored when tail() is called": ask now, on the connection that is
  // already up, so a publish made right after tail() returns is seen
  const start: Promise<string> = fromId === '$' ? lastId(main, key).catch(() => '$') : Promise.resolve(fromId);
  start.catch(() => undefined);

  async function* entries(): AsyncGenerator<StreamEntry, undefined> {
    try {
      let cursor = await start;
      let failures = 0;
      while (!closed) {
        let reply: unknown;
        try {
          await waitForReady(conn);
          if (cursor === '$') {
            cursor = await lastId(conn, key);
          }
          reply = await conn.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, cursor);
          failures = 0;
        } catch (error) {
          if (closed) {
            return;
          }
          if (++failures === 1) {
            logger.warn('tail read failed, retrying', { channel, error: (error as Error).message });
          }
          await sleep(backoffMs(failures, 50, 2000));
          continue;
        }
        for (const raw of entriesOf(reply)) {
          cursor = raw[0];
          const parsed = parseEntry(raw, { key, channel });
          if (parsed.ok) {
            yield { id: parsed.id, channel, envelope: parsed.envelope };
          } else {
            logger.warn('tail skipped a malformed entry', { channel, id: parsed.id, error: parsed.error.message });
          }
        }
      }
    } finally {
      closed = true;
      await closeConnection(conn);
    }
  }

  return tailOf(
    entries(),
    async () => {
      closed = true;
      // breaks a pending XREAD BLOCK; the generator's finally then finishes the cleanup
      await closeConnection(conn);
    },
    onClose,
  );
}

/** The id of the newest entry (`0-0` for an empty or missing stream), so "$" becomes a fixed cursor. */
async function lastId(conn: Redis, key: string): Promise<string> {
  const newest = (await conn.xrevrange(key, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
  return newest[0]?.[0] ?? '0-0';
}
