import type { Broker, Envelope, StreamEntry, Tail } from '@mupets/broker';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { sessionOf } from '../auth/session.middleware';
import type { Session } from '../auth/session-store';
import { HttpError, invalidInput, parseInput } from '../http-error';
import { identifier, level } from '../input-schemas';
import type { LiveStreams } from '../live-streams';
import type { AppLogger } from '../logger';
import { formatCursor, parseCursor, type LiveCursor } from './live-cursor';
import { SSE_KEEP_ALIVE, sseEvent, startEventStream } from '../sse';

export interface LiveOptions {
  broker: Pick<Broker, 'tail' | 'range'>;
  /** The channels a client may follow; the default set. */
  channels: readonly string[];
  streams: LiveStreams;
  /** Time between keep-alive comments. */
  heartbeatMs: number;
  logger: AppLogger;
}

/** Entries in one SSE event at most; a larger read is split. */
const MAX_BATCH = 500;

const liveQuery = z.strictObject({
  channels: z.string().max(1024).optional(),
  from: z.string().max(4096).optional(),
  service: identifier.optional(),
  level: z
    .string()
    .max(256)
    .transform((list) => list.split(',').map((word) => word.trim()))
    .pipe(z.array(level).min(1))
    .optional(),
  type: identifier.optional(),
  text: z.string().min(1).max(200).optional(),
});

/** The optional server-side filter: only matching entries are sent (the cursor still moves past the others). */
type LiveFilter = (envelope: Envelope) => boolean;

function filterOf(query: z.output<typeof liveQuery>): LiveFilter | undefined {
  const { service, level: levels, type, text } = query;
  if (service === undefined && levels === undefined && type === undefined && text === undefined) {
    return undefined;
  }
  const needle = text?.toLowerCase();
  return (envelope) =>
    (service === undefined || envelope.source.service === service) &&
    (levels === undefined || (envelope.level !== undefined && levels.includes(envelope.level))) &&
    (type === undefined || envelope.type === type) &&
    (needle === undefined || (envelope.message ?? '').toLowerCase().includes(needle));
}

/**
 * `GET /api/live`: server-sent events, one `entries` event per read batch whose `id` is the cursor
 * (every channel's last delivered id). A first `ready` event carries the starting cursor, so a
 * client that reconnects before any entry arrived still resumes without a gap. Optional filters
 * (`service`, `level` as a comma list, `type`, `text` in the message) thin the stream server-side.
 */
export function createLiveRouter(options: LiveOptions): Router {
  const router = express.Router();
  router.get('/', async (request, response) => {
    // before any await: a client that leaves while the start position is read must not get a
    // stream (its tails would never be closed: 'close' has fired already)
    let gone = false;
    response.once('close', () => (gone = true));
    const query = parseInput(liveQuery, request.query, 'query');
    const channels = selectChannels(query.channels, options.channels);
    const cursor = startCursor(request, query.from);
    // a channel the cursor does not name starts at its newest entry, resolved now: the cursor sent
    // to the client is then concrete, and entries added while it reconnects are not lost
    const start: LiveCursor = new Map();
    await Promise.all(
      channels.map(async (channel) => {
        const given = cursor?.get(channel);
        if (given !== undefined) {
          start.set(channel, given);
          return;
        }
        const [newest] = await options.broker.range(channel, { reverse: true, count: 1 });
        start.set(channel, newest?.id ?? '0');
      }),
    );
    if (gone) {
      return;
    }
    const session = sessionOf(response);
    if (!options.streams.hasRoomFor(session?.id)) {
      throw new HttpError(429, 'too_many_streams', 'too many live streams open; close one and retry');
    }
    const position: LiveCursor = new Map(channels.map((channel) => [channel, start.get(channel)!]));
    openStream(options, request, response, position, filterOf(query), session);
  });
  return router;
}

function selectChannels(list: string | undefined, allowed: readonly string[]): string[] {
  if (list === undefined || list.trim() === '') {
    return [...allowed];
  }
  const channels = [...new Set(list.split(',').map((channel) => channel.trim()))];
  const unknown = channels.filter((channel) => !allowed.includes(channel));
  if (unknown.length > 0 || channels.length === 0) {
    throw invalidInput([
      { field: 'channels', rule: 'enum', message: `each channel must be one of ${allowed.join(', ')}` },
    ]);
  }
  return channels;
}

function startCursor(request: Request, from: string | undefined): LiveCursor | undefined {
  const [field, text] = from !== undefined ? ['from', from] : ['Last-Event-ID', request.get('last-event-id')];
  if (text === undefined || text === '') {
    return undefined;
  }
  const cursor = parseCursor(text);
  if (!cursor) {
    throw invalidInput([{ field, rule: 'format', message: 'a cursor like logs=1732000000000-0;events=0' }]);
  }
  return cursor;
}

function openStream(
  options: LiveOptions,
  request: Request,
  response: Response,
  position: LiveCursor,
  filter: LiveFilter | undefined,
  session: Session | undefined,
): void {
  const { logger } = options;
  startEventStream(response);
  request.socket.setNoDelay(true);

  const tails: Tail[] = [];
  let pending: StreamEntry[] = [];
  let flushTimer: NodeJS.Immediate | undefined;
  let closed = false;
  const waiters: Array<() => void> = [];

  const stream = {
    close: async (): Promise<void> => {
      if (!closed) {
        response.end();
      }
      await shutdown();
    },
  };

  async function shutdown(): Promise<void> {
    if (closed) {
      return;
    }
    closed = true;
    clearInterval(heartbeat);
    if (flushTimer) {
      clearImmediate(flushTimer);
    }
    waiters.splice(0).forEach((wake) => wake());
    options.streams.delete(stream);
    await Promise.all(tails.map((tail) => tail.close().catch(() => undefined)));
  }

  if (!options.streams.add(stream, session?.id)) {
    response.end();
    return;
  }
  response.on('close', () => void shutdown());
  response.on('drain', () => waiters.splice(0).forEach((wake) => wake()));

  const heartbeat = setInterval(() => {
    // the stream itself is no use of the session: it ends when the session has (logout ends it at once)
    if (session && session.expiresAt <= Date.now()) {
      void stream.close();
      return;
    }
    response.write(SSE_KEEP_ALIVE);
  }, options.heartbeatMs);

  response.write(sseEvent('ready', { channels: [...position.keys()] }, formatCursor(position)));

  function flush(): void {
    flushTimer = undefined;
    while (pending.length > 0 && !closed) {
      const batch = pending.slice(0, MAX_BATCH);
      pending = pending.slice(batch.length);
      for (const entry of batch) {
        position.set(entry.channel, entry.id);
      }
      const shown = filter ? batch.filter((entry) => filter(entry.envelope)) : batch;
      if (shown.length === 0) {
        continue;
      }
      const data = shown.map(({ channel, id, envelope }) => ({ channel, id, envelope }));
      response.write(sseEvent('entries', data, formatCursor(position)));
    }
    if (!response.writableNeedDrain) {
      waiters.splice(0).forEach((wake) => wake());
    }
  }

  /** Resolves once the entries read so far are written and the socket can take more. */
  function room(): Promise<void> {
    if (closed || (pending.length < MAX_BATCH && !response.writableNeedDrain)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => waiters.push(resolve));
  }

  for (const [channel, fromId] of position) {
    const tail = options.broker.tail(channel, { fromId, blockMs: 5000 });
    tails.push(tail);
    void (async () => {
      try {
        for await (const entry of tail) {
          if (closed) {
            break;
          }
          pending.push(entry);
          flushTimer ??= setImmediate(flush);
          await room();
        }
      } catch (error) {
        if (!closed) {
          logger.warn('live tail failed; closing the stream', { channel, error });
          await stream.close();
        }
      }
    })();
  }
}
