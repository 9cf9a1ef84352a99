import type { Broker, Envelope, StreamEntry, Tail } from '@mupets/broker';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { sessionOf } from '../auth/session.middleware';
import type { Session } from '../auth/session-store';
import { HttpError, invalidInput, parseInput } from '../http/http-error';
import { identifier, level } from '../http/input-schemas';
import type { LiveStreams } from './live-streams';
import type { AppLogger } from '../logger';
import { formatCursor, parseCursor, type LiveCursor } from './live-cursor';
import { LiveHub, type HubMembership } from './live-hub';
import { SSE_KEEP_ALIVE, sseEvent, startEventStream } from '../http/sse';

/** One entry of the SSE `entries` event (a JSON array of them). */
export type LiveEntry = Pick<StreamEntry, 'channel' | 'id' | 'envelope'>;

/** The SSE `ready` event: the channels followed, in the order of the cursor. */
export interface LiveReady {
  readonly channels: readonly string[];
}

export interface LiveOptions {
  broker: Pick<Broker, 'tail' | 'range'>;
  /** The channels a client may follow; the default set. */
  channels: readonly string[];
  streams: LiveStreams;
  /** Time between keep-alive comments. */
  heartbeatMs: number;
  /** Entries queued for one client's socket before it stops sharing its channels' tails. */
  maxPending?: number;
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
  const hub = new LiveHub(options.broker, options.logger);
  router.get('/', async (request, response) => {
    // before any await: a client that leaves while the start position is read must not get a
    // stream (its tails would never be closed: 'close' has fired already)
    let gone = false;
    response.once('close', () => (gone = true));
    const query = parseInput(liveQuery, request.query, 'query');
    const channels = selectChannels(query.channels, options.channels);
    const cursor = startCursor(request, query.from);
    const session = sessionOf(response);
    const live = new LiveStream(options, hub, channels, request, response, filterOf(query), session);
    // a channel the cursor does not name starts at its newest entry, resolved now: the cursor sent
    // to the client is then concrete, and entries added while it reconnects are not lost
    try {
      await Promise.all(channels.map((channel) => live.follow(channel, cursor?.get(channel))));
    } catch (error) {
      live.abandon();
      throw error;
    }
    if (gone) {
      live.abandon();
      return;
    }
    if (!options.streams.hasRoomFor(session?.id)) {
      live.abandon();
      throw new HttpError(429, 'too_many_streams', 'too many live streams open; close one and retry');
    }
    live.start();
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

/** The default of `maxPending`. */
const MAX_PENDING = 20 * MAX_BATCH;

/**
 * One client's stream. Each channel is followed through the hub's shared tail when it can be (see
 * live-hub.ts), else, or once the client falls MAX_PENDING entries behind, with a tail of its own
 * that waits for the socket.
 */
class LiveStream {
  /** Each channel's last id written to the client. */
  private position: LiveCursor = new Map();
  private readonly memberships = new Map<string, HubMembership>();
  private readonly privateFrom = new Map<string, string>();
  private readonly tails: Tail[] = [];
  private pending: StreamEntry[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private started = false;
  private closed = false;
  private readonly waiters: Array<() => void> = [];
  private readonly handle = { close: () => this.close() };

  constructor(
    private readonly options: LiveOptions,
    private readonly hub: LiveHub,
    private readonly channels: readonly string[],
    private readonly request: Request,
    private readonly response: Response,
    private readonly filter: LiveFilter | undefined,
    private readonly session: Session | undefined,
  ) {}

  /** Follows `channel` after `fromId` (undefined: after its newest entry). */
  async follow(channel: string, fromId: string | undefined): Promise<void> {
    const membership = await this.hub.join(channel, fromId, {
      entry: (entry) => this.queue(entry),
      failed: (error) => this.failed(channel, error),
    });
    if (membership && this.closed) {
      // abandoned while this join waited (another channel's start read failed): let go at once
      membership.leave();
      return;
    } else if (membership) {
      this.memberships.set(channel, membership);
    } else {
      this.privateFrom.set(channel, fromId!);
    }
    this.position.set(channel, membership?.fromId ?? fromId!);
  }

  /** The client is gone or refused before the stream started: let go of what follow() took. */
  abandon(): void {
    this.closed = true;
    this.memberships.forEach((membership) => membership.leave());
    this.memberships.clear();
  }

  start(): void {
    if (!this.options.streams.add(this.handle, this.session?.id)) {
      this.abandon();
      this.response.end();
      return;
    }
    startEventStream(this.response);
    this.request.socket.setNoDelay(true);
    this.response.on('close', () => void this.shutdown());
    this.response.on('drain', () => {
      this.schedule();
      this.wake();
    });
    this.heartbeat = setInterval(() => {
      // the stream itself is no use of the session: it ends when the session has (logout ends it at once)
      if (this.session && this.session.expiresAt <= Date.now()) {
        void this.close();
        return;
      }
      this.response.write(SSE_KEEP_ALIVE);
    }, this.options.heartbeatMs);
    // the cursor the client starts from, in the order the channels were asked for; entries the
    // shared tails queued already (recent ones after a reconnect's cursor) come right after it
    this.position = new Map(this.channels.map((channel) => [channel, this.position.get(channel)!]));
    this.response.write(
      sseEvent('ready', { channels: this.channels } satisfies LiveReady, formatCursor(this.position)),
    );
    this.started = true;
    this.privateFrom.forEach((fromId, channel) => this.followPrivately(channel, fromId));
    this.privateFrom.clear();
    this.schedule();
  }

  private async close(): Promise<void> {
    if (!this.closed) {
      this.response.end();
    }
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.flushTimer) {
      clearImmediate(this.flushTimer);
    }
    this.wake();
    this.options.streams.delete(this.handle);
    this.memberships.forEach((membership) => membership.leave());
    this.memberships.clear();
    await Promise.all(this.tails.map((tail) => tail.close().catch(() => undefined)));
  }

  private queue(entry: StreamEntry): void {
    this.pending.push(entry);
    const membership = this.memberships.get(entry.channel);
    if (membership && this.pending.length > (this.options.maxPending ?? MAX_PENDING)) {
      // too slow for the shared tail: it goes on alone, right after what it has queued
      membership.leave();
      this.memberships.delete(entry.channel);
      if (this.started) {
        this.followPrivately(entry.channel, entry.id);
      } else {
        this.privateFrom.set(entry.channel, entry.id);
      }
    }
    this.schedule();
  }

  private failed(channel: string, error: unknown): void {
    this.memberships.delete(channel);
    if (!this.closed) {
      this.options.logger.warn('live tail failed; closing the stream', { channel, error });
      void this.close();
    }
  }

  private schedule(): void {
    if (this.started && !this.closed) {
      this.flushTimer ??= setImmediate(() => this.flush());
    }
  }

  private wake(): void {
    this.waiters.splice(0).forEach((resume) => resume());
  }

  private flush(): void {
    this.flushTimer = undefined;
    // a socket that cannot take more keeps the rest queued: a client that stays behind long enough
    // leaves the shared tails (queue())
    while (this.pending.length > 0 && !this.closed && !this.response.writableNeedDrain) {
      const batch = this.pending.slice(0, MAX_BATCH);
      this.pending = this.pending.slice(batch.length);
      for (const entry of batch) {
        this.position.set(entry.channel, entry.id);
      }
      const shown = this.filter ? batch.filter((entry) => this.filter!(entry.envelope)) : batch;
      if (shown.length === 0) {
        continue;
      }
      const data = shown.map(({ channel, id, envelope }): LiveEntry => ({ channel, id, envelope }));
      this.response.write(sseEvent('entries', data, formatCursor(this.position)));
    }
    if (!this.response.writableNeedDrain) {
      this.wake();
    }
  }

  /** Resolves once the entries read so far are written and the socket can take more. */
  private room(): Promise<void> {
    if (this.closed || (this.pending.length < MAX_BATCH && !this.response.writableNeedDrain)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private followPrivately(channel: string, fromId: string): void {
    const tail = this.options.broker.tail(channel, { fromId, blockMs: 5000 });
    this.tails.push(tail);
    void (async () => {
      try {
        for await (const entry of tail) {
          if (this.closed) {
            break;
          }
          this.pending.push(entry);
          this.schedule();
          await this.room();
        }
      } catch (error) {
        this.failed(channel, error);
      }
    })();
  }
}
