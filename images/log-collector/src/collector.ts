import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import { Counter, Gauge, type Registry } from 'prom-client';
import { EnvelopeValidationError, type Broker, type MessageInput } from '@mupets/broker';
import { createLogDemuxer, displayName, serviceOf, type LogLine, type ServiceLogger } from '@mupets/cargo';
import { containerEnvelope, gapEnvelope, type ContainerIdentity } from './container-envelope';
import { isCollected, scopeFilter, type CollectScope } from './container-selector';
import { sinceArgument, toNanos } from './docker-time';
import { createLineCounter } from './line-counter';
import { createMultilineAssembler, type MultilineAssembler } from './multiline';
import type { ParseDefaults } from './parse-record';
import type { LogIntent, LogPosition, PositionStore } from './position-store';

export interface CollectorOptions {
  docker: Docker;
  broker: Pick<Broker, 'publish' | 'range' | 'ready'>;
  positions: PositionStore;
  logger: ServiceLogger;
  registry: Registry;
  scope: CollectScope;
  /** `source.host` of every record: the node's name. */
  host: string;
  /** Channel the records go to. */
  channel: string;
  /** Records per publish. */
  batchSize: number;
  /** Records held per container; past it, reading that container pauses until it drains. */
  maxBufferedPerContainer: number;
  /** How long an open multi-line record waits for a continuation line. */
  multilineWaitMs: number;
  /** Level of plain lines without a marker, per stream. */
  defaults: ParseDefaults;
  /** The collector's own container id (its own lines reach the broker through its transport). */
  selfId?: string | undefined;
  /**
   * The first broker id worth searching for a batch published at `atMs` (Redis: `<ms>-0`); without
   * it the newest entries of the channel are searched.
   */
  rangeStart?: (atMs: number) => string | undefined;
  /** Retry delay after an outage, doubling up to `maxRetryMs`. Defaults 200 and 5000 ms. */
  minRetryMs?: number;
  maxRetryMs?: number;
}

export interface Collector {
  /** Follows every container in scope, present and future. */
  start(): Promise<void>;
  /** Stops reading, publishes what was read (bounded by the caller's deadline), stops. */
  stop(): Promise<void>;
  /** Why the collector is not ready (broker or position store unreachable, Docker events down), or null. */
  readonly notReady: string | null;
}

interface QueuedRecord {
  envelope: MessageInput & { id: string };
  position: LogPosition;
}

interface Follower {
  container: ContainerIdentity;
  tty: boolean;
  queue: QueuedRecord[];
  /** The last position handed to the queue: where a new log stream of this container resumes. */
  tail: LogPosition | undefined;
  stream: IncomingMessage | undefined;
  starting: boolean;
  /** Whether `follow` was asked again while a start was under way. */
  again: boolean;
  generation: number;
  assembler: MultilineAssembler<LogPosition>;
  flushTimer: NodeJS.Timeout | undefined;
  paused: boolean;
  removed: boolean;
  /**
   * Positions of the lines already handed to the queue, the newest SEEN_LINES of them (a ring;
   * `recentAt` is the next slot). Docker writes stdout and stderr by two copiers, so a container's
   * log file is not always in time order: a stream resumed from `tail` (the last line read) with
   * `since` can bring back a line read before it with a later stamp. Within one process those are
   * skipped by their position (looked up only when a stream starts, not per line); after a crash
   * they may be published again, under the same envelope id (the archive keeps one).
   */
  recent: LogPosition[];
  recentAt: number;
}

const SEEN_LINES = 10_000;

const SEARCH_COUNT = 10_000;

/**
 * Follows the stdout and stderr of the containers in scope and publishes every record to the
 * broker. Per container: a log stream resumed from the durable position, lines grouped into
 * records, a bounded queue (a full one pauses that stream only). One publish loop takes from the
 * queues in turn, a fair share each, so a noisy container cannot starve the others. When the broker
 * or the position store fails, every stream is closed and what was read is forgotten; once both
 * answer, reading resumes from the stored positions (Docker's log files hold the backlog).
 */
export function createCollector(options: CollectorOptions): Collector {
  const { docker, broker, positions, logger, channel } = options;
  const minRetryMs = options.minRetryMs ?? 200;
  const maxRetryMs = options.maxRetryMs ?? 5000;
  const followers = new Map<string, Follower>();
  const metrics = createMetrics(options.registry, followers);
  let events: IncomingMessage | undefined;
  let eventsUp = false;
  let outage: string | null = null;
  let stopping = false;
  let started = false;
  let wake: (() => void) | undefined;
  let roundRobin = 0;
  /** Positions reached by the last publish, committed with the next batch's intents (or when idle). */
  let uncommitted = new Map<string, LogPosition>();
  let loop: Promise<void> | undefined;

  const signal = (): void => {
    wake?.();
  };

  // --- containers ------------------------------------------------------------------------------

  async function follow(id: string): Promise<void> {
    if (stopping || outage !== null || (options.selfId && id.startsWith(options.selfId))) {
      return;
    }
    const known = followers.get(id);
    if (known?.stream) {
      return;
    }
    if (known?.starting) {
      // a start under way may be a stale one that an outage cut short: it tries once more after
      known.again = true;
      return;
    }
    let info: Docker.ContainerInspectInfo;
    try {
      info = await docker.getContainer(id).inspect();
    } catch (error) {
      if (statusOf(error) !== 404) {
        logger.warn('container inspect failed', { containerId: id, error: messageOf(error) });
      }
      return;
    }
    if (!isCollected(info.Config.Labels, options.scope)) {
      return;
    }
    // another call (an event, a resync) may have made this container's follower meanwhile
    let follower = followers.get(id);
    if (!follower) {
      follower = {
        container: {
          id: info.Id,
          name: displayName(info.Name),
          service: serviceOf(info.Config.Labels),
          image: info.Config.Image,
        },
        tty: info.Config.Tty,
        queue: [],
        tail: undefined,
        stream: undefined,
        starting: false,
        again: false,
        generation: 0,
        assembler: createMultilineAssembler(),
        flushTimer: undefined,
        paused: false,
        removed: false,
        recent: [],
        recentAt: 0,
      };
      followers.set(id, follower);
    }
    const current = follower;
    if (current.stream || current.starting) {
      current.again ||= current.starting;
      return;
    }
    current.starting = true;
    current.again = false;
    const generation = ++current.generation;
    try {
      let from = current.tail;
      if (from === undefined) {
        from = await storedPosition(current);
        if (from !== undefined) {
          await reportGap(current, from);
        }
      }
      if (generation !== current.generation || stopping || outage !== null) {
        return;
      }
      const stream = (await docker.getContainer(id).logs({
        follow: true,
        stdout: true,
        stderr: true,
        timestamps: true,
        // Docker's `since` takes seconds.nanoseconds; lines at the position's own time come again
        // and are skipped by count below, so a coarser engine loses nothing either
        since: (from ? sinceArgument(from.ts) : 0) as number,
      })) as unknown as IncomingMessage;
      if (generation !== current.generation || stopping || outage !== null) {
        stream.destroy();
        return;
      }
      read(current, stream, generation, from);
    } catch (error) {
      if (statusOf(error) !== 404) {
        logger.warn('following a container failed', { container: current.container.name, error: messageOf(error) });
        if (outage === null && isDependencyError(error)) {
          void enterOutage(error);
        }
      }
    } finally {
      current.starting = false;
      if (current.again && !current.stream) {
        current.again = false;
        void follow(id);
      }
    }
  }

  /** The stored position, after settling a publish the last run may have left half-known. */
  async function storedPosition(follower: Follower): Promise<LogPosition | undefined> {
    const stored = await positions.load(follower.container.id);
    if (!stored.intent) {
      return stored.position;
    }
    const published = await wasPublished(stored.intent);
    const position = published ? stored.intent : stored.position;
    if (position) {
      await positions.commit(new Map([[follower.container.id, { ts: position.ts, n: position.n }]]));
    }
    return position ? { ts: position.ts, n: position.n } : undefined;
  }

  async function wasPublished(intent: LogIntent): Promise<boolean> {
    const start = options.rangeStart?.(intent.at - 60_000);
    const entries = await broker.range(channel, {
      reverse: true,
      count: SEARCH_COUNT,
      ...(start === undefined ? {} : { start }),
    });
    return entries.some((entry) => entry.envelope.id === intent.lastId);
  }

  /** Publishes a gap record when Docker no longer has the line the position names. */
  async function reportGap(follower: Follower, from: LogPosition): Promise<void> {
    const first = await firstAvailableLine(follower);
    if (first !== undefined && toNanos(first) > toNanos(from.ts)) {
      logger.warn('container log lines lost before collection', {
        container: follower.container.name,
        lastCollectedAt: from.ts,
        firstAvailableAt: first,
      });
      metrics.gaps.inc();
      follower.queue.push({ envelope: gapEnvelope(follower.container, options.host, from, first), position: from });
      signal();
    }
  }

  async function firstAvailableLine(follower: Follower): Promise<string | undefined> {
    const stream = (await docker.getContainer(follower.container.id).logs({
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
    })) as unknown as IncomingMessage;
    const demux = createLogDemuxer({ tty: follower.tty });
    return new Promise<string | undefined>((resolve) => {
      // a running container without any line keeps the stream open: after a while, assume none
      const timer = setTimeout(() => finish(undefined), 5000);
      const finish = (ts: string | undefined): void => {
        clearTimeout(timer);
        stream.destroy();
        resolve(ts);
      };
      stream.on('data', (chunk: Buffer) => {
        const line = demux.push(chunk).find((each) => each.ts !== '');
        if (line) {
          finish(line.ts);
        }
      });
      stream.on('error', () => finish(undefined));
      stream.on('close', () => finish(undefined));
    });
  }

  function read(follower: Follower, stream: IncomingMessage, generation: number, from: LogPosition | undefined): void {
    follower.stream = stream;
    metrics.followed.set(countStreams());
    const demux = createLogDemuxer({ tty: follower.tty });
    const counter = createLineCounter(from);
    const seen = seenBefore(follower);
    const accept = (lines: LogLine[]): void => {
      for (const line of lines) {
        if (line.ts === '') {
          // only the piece of a cut line can come without a stamp, and the demuxer joins those
          continue;
        }
        const { position, published } = counter.next(line.ts);
        if (published || (seen !== undefined && position.n <= (seen.get(position.ts) ?? 0))) {
          continue;
        }
        follower.recent[follower.recentAt] = position;
        follower.recentAt = (follower.recentAt + 1) % SEEN_LINES;
        metrics.lines.inc();
        enqueue(follower, follower.assembler.push({ stream: line.stream, ts: line.ts, text: line.text, position }));
      }
    };
    stream.on('data', (chunk: Buffer) => {
      if (generation !== follower.generation) {
        return;
      }
      accept(demux.push(chunk));
      armFlush(follower);
      if (follower.queue.length >= options.maxBufferedPerContainer && !follower.paused) {
        follower.paused = true;
        stream.pause();
      }
    });
    let ended = false;
    const end = (): void => {
      if (ended) {
        return;
      }
      ended = true;
      if (generation !== follower.generation) {
        return;
      }
      accept(demux.end());
      flushAssembler(follower);
      follower.stream = undefined;
      follower.paused = false;
      metrics.followed.set(countStreams());
      if (follower.removed) {
        signal();
        return;
      }
      if (!stopping && outage === null) {
        void followAgainIfRunning(follower.container.id);
      }
    };
    stream.on('end', end);
    stream.on('close', end);
    stream.on('error', (error: Error) => {
      logger.warn('container log stream failed', { container: follower.container.name, error: error.message });
      end();
    });
  }

  /** The highest rank read per stamp by the follower's earlier streams in this process, if any. */
  function seenBefore(follower: Follower): Map<string, number> | undefined {
    if (follower.recent.length === 0) {
      return undefined;
    }
    const seen = new Map<string, number>();
    for (const { ts, n } of follower.recent) {
      seen.set(ts, Math.max(n, seen.get(ts) ?? 0));
    }
    return seen;
  }

  /** A log stream that ended while its container still runs (Docker restarted, a proxy dropped it). */
  async function followAgainIfRunning(id: string): Promise<void> {
    try {
      const info = await docker.getContainer(id).inspect();
      if (info.State.Running) {
        await new Promise((resolve) => setTimeout(resolve, minRetryMs));
        await follow(id);
      }
    } catch {
      // gone, or Docker unreachable: the events stream's resync follows it again
    }
  }

  function enqueue(follower: Follower, records: ReturnType<Follower['assembler']['push']>): void {
    for (const record of records) {
      follower.queue.push({
        envelope: containerEnvelope(record, follower.container, options.host, options.defaults),
        position: record.position,
      });
      follower.tail = record.position;
    }
    if (records.length > 0) {
      signal();
    }
  }

  function armFlush(follower: Follower): void {
    if (follower.flushTimer) {
      clearTimeout(follower.flushTimer);
      follower.flushTimer = undefined;
    }
    if (follower.assembler.pending) {
      follower.flushTimer = setTimeout(() => {
        follower.flushTimer = undefined;
        enqueue(follower, follower.assembler.flush());
      }, options.multilineWaitMs);
    }
  }

  function flushAssembler(follower: Follower): void {
    if (follower.flushTimer) {
      clearTimeout(follower.flushTimer);
      follower.flushTimer = undefined;
    }
    enqueue(follower, follower.assembler.flush());
  }

  function closeStream(follower: Follower): void {
    follower.generation += 1;
    follower.stream?.destroy();
    follower.stream = undefined;
    follower.paused = false;
  }

  function removed(id: string): void {
    const follower = followers.get(id);
    if (follower) {
      follower.removed = true;
      signal();
    }
  }

  // --- Docker events -----------------------------------------------------------------------------

  async function watchEvents(): Promise<void> {
    for (let attempt = 0; !stopping; attempt++) {
      try {
        const stream = (await docker.getEvents({
          filters: { type: ['container'], event: ['start', 'destroy'], ...scopeFilter(options.scope) },
        })) as unknown as IncomingMessage;
        if (stopping) {
          stream.destroy();
          return;
        }
        events = stream;
        eventsUp = true;
        attempt = 0;
        // containers that started while no events were read
        await resync();
        await consumeEvents(stream);
      } catch (error) {
        if (!stopping) {
          logger.warn('docker events unavailable', { error: messageOf(error) });
        }
      }
      eventsUp = false;
      events = undefined;
      if (!stopping) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(maxRetryMs, minRetryMs * 2 ** attempt)));
      }
    }
  }

  function consumeEvents(stream: IncomingMessage): Promise<void> {
    let rest = '';
    return new Promise<void>((resolve) => {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        rest += chunk;
        let newline = rest.indexOf('\n');
        while (newline >= 0) {
          handleEvent(rest.slice(0, newline));
          rest = rest.slice(newline + 1);
          newline = rest.indexOf('\n');
        }
      });
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', () => resolve());
    });
  }

  function handleEvent(line: string): void {
    let event: { Action?: string; Actor?: { ID?: string } };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    const id = event.Actor?.ID;
    if (!id) {
      return;
    }
    if (event.Action === 'start') {
      void follow(id);
    } else if (event.Action === 'destroy') {
      removed(id);
    }
  }

  /** Follows every running container in scope, and stopped ones a position says have unread lines. */
  async function resync(): Promise<void> {
    const list = await docker.listContainers({ all: true, filters: scopeFilter(options.scope) });
    const known = new Set(list.map((container) => container.Id));
    for (const [id, follower] of followers) {
      if (!known.has(id)) {
        follower.removed = true;
      }
    }
    for (const container of list) {
      if (container.State === 'running' || followers.has(container.Id)) {
        await follow(container.Id);
      } else if ((await positions.load(container.Id)).position) {
        await follow(container.Id);
      }
    }
    signal();
  }

  // --- publishing ----------------------------------------------------------------------------------

  function takeBatch(): Array<{ follower: Follower; record: QueuedRecord }> {
    const active = [...followers.values()].filter((follower) => follower.queue.length > 0);
    if (active.length === 0) {
      return [];
    }
    roundRobin = (roundRobin + 1) % active.length;
    const ordered = [...active.slice(roundRobin), ...active.slice(0, roundRobin)];
    const share = Math.max(1, Math.floor(options.batchSize / active.length));
    const batch: Array<{ follower: Follower; record: QueuedRecord }> = [];
    for (const pass of [share, options.batchSize]) {
      for (const follower of ordered) {
        const room = Math.min(pass, options.batchSize - batch.length);
        for (const record of follower.queue.splice(0, Math.max(0, room))) {
          batch.push({ follower, record });
        }
      }
    }
    return batch;
  }

  async function publishBatch(batch: Array<{ follower: Follower; record: QueuedRecord }>): Promise<void> {
    const reached = new Map<string, LogPosition>();
    const intents = new Map<string, LogIntent>();
    const at = Date.now();
    for (const { follower, record } of batch) {
      reached.set(follower.container.id, record.position);
      intents.set(follower.container.id, { ...record.position, lastId: record.envelope.id, at });
    }
    await positions.begin(intents, uncommitted);
    uncommitted = new Map();
    await publishAll(batch.map(({ record }) => record.envelope));
    uncommitted = reached;
    metrics.published.inc(batch.length);
    for (const follower of new Set(batch.map(({ follower }) => follower))) {
      if (follower.paused && follower.queue.length <= options.maxBufferedPerContainer / 2) {
        follower.paused = false;
        follower.stream?.resume();
      }
    }
  }

  /**
   * One publish; when the broker refuses an envelope as invalid, one at a time, and a refused one
   * as a minimal envelope saying why: one bad record never blocks the others, and none vanishes.
   */
  async function publishAll(envelopes: Array<MessageInput & { id: string }>): Promise<void> {
    try {
      await broker.publish(channel, envelopes);
      return;
    } catch (error) {
      if (!(error instanceof EnvelopeValidationError)) {
        throw error;
      }
    }
    for (const envelope of envelopes) {
      try {
        await broker.publish(channel, envelope);
      } catch (error) {
        if (!(error instanceof EnvelopeValidationError)) {
          throw error;
        }
        metrics.rejected.inc();
        logger.error('container log record refused by the broker, published cut down', {
          id: envelope.id,
          source: envelope.source,
          error: error.message,
        });
        await broker.publish(channel, {
          id: envelope.id,
          type: envelope.type,
          source: envelope.source,
          ...(envelope.ts === undefined ? {} : { ts: envelope.ts }),
          ...(envelope.level === undefined ? {} : { level: envelope.level }),
          message: (envelope.message ?? '').slice(0, 1024),
          data: { docker: envelope.data?.docker, envelopeRejected: error.message.slice(0, 1024) },
        });
      }
    }
  }

  async function forgetRemoved(): Promise<void> {
    for (const [id, follower] of followers) {
      if (follower.removed && follower.queue.length === 0 && !follower.stream && !follower.starting) {
        followers.delete(id);
        closeStream(follower);
        await positions.remove(id);
      }
    }
  }

  async function run(): Promise<void> {
    for (;;) {
      if (outage !== null) {
        await recover();
        continue;
      }
      const batch = takeBatch();
      if (batch.length === 0) {
        try {
          if (uncommitted.size > 0) {
            await positions.commit(uncommitted);
            uncommitted = new Map();
          }
          await forgetRemoved();
        } catch (error) {
          await enterOutage(error);
          continue;
        }
        if (stopping && ![...followers.values()].some((follower) => follower.stream || follower.starting)) {
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          // the loop also checks for removed containers and for a stop now and then
          setTimeout(resolve, 1000).unref();
        });
        wake = undefined;
        continue;
      }
      try {
        await publishBatch(batch);
      } catch (error) {
        await enterOutage(error);
        if (stopping) {
          return;
        }
      }
    }
  }

  // --- outages -------------------------------------------------------------------------------------

  async function enterOutage(error: unknown): Promise<void> {
    if (outage !== null) {
      return;
    }
    outage = messageOf(error);
    // positions published but not yet committed stay as intents in Redis, settled when reading resumes
    uncommitted = new Map();
    metrics.outages.inc();
    logger.warn('broker or position store unavailable: reading paused, resuming from stored positions later', {
      error: outage,
    });
    for (const follower of followers.values()) {
      closeStream(follower);
      if (follower.flushTimer) {
        clearTimeout(follower.flushTimer);
        follower.flushTimer = undefined;
      }
      // what was read but not published is read again from Docker's log files
      follower.queue = [];
      follower.tail = undefined;
      follower.recent = [];
      follower.recentAt = 0;
      follower.assembler = createMultilineAssembler();
    }
    metrics.followed.set(0);
    await Promise.resolve();
  }

  async function recover(): Promise<void> {
    for (let attempt = 0; outage !== null; attempt++) {
      if (stopping) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(maxRetryMs, minRetryMs * 2 ** attempt)));
      try {
        await broker.ready(1000);
        await positions.ping();
        logger.info('broker and position store back: resuming', { downFor: outage });
        outage = null;
      } catch {
        // still down
      }
    }
    if (stopping) {
      return;
    }
    // every container in scope, not only those followed before: an outage during a resync left
    // the rest of its list unfollowed
    try {
      await resync();
    } catch (error) {
      if (isDependencyError(error)) {
        await enterOutage(error);
        return;
      }
      logger.warn('listing containers failed: following the known ones', { error: messageOf(error) });
      for (const id of [...followers.keys()]) {
        await follow(id);
      }
    }
  }

  function countStreams(): number {
    return [...followers.values()].filter((follower) => follower.stream).length;
  }

  return {
    async start() {
      if (started) {
        return;
      }
      started = true;
      loop = run();
      void watchEvents();
      await new Promise<void>((resolve) => {
        const check = (): void => {
          if (eventsUp || stopping) {
            resolve();
          } else {
            setTimeout(check, 50);
          }
        };
        check();
      });
    },
    async stop() {
      stopping = true;
      events?.destroy();
      for (const follower of followers.values()) {
        closeStream(follower);
        flushAssembler(follower);
      }
      signal();
      await loop;
    },
    get notReady() {
      if (outage !== null) {
        return `paused: ${outage}`;
      }
      return eventsUp ? null : 'docker events not followed';
    },
  };
}

function createMetrics(registry: Registry, followers: ReadonlyMap<string, Follower>) {
  const registers = [registry];
  return {
    lines: new Counter({ name: 'mupets_collector_lines_read_total', help: 'Container log lines read', registers }),
    published: new Counter({
      name: 'mupets_collector_records_published_total',
      help: 'Records published to the broker',
      registers,
    }),
    rejected: new Counter({
      name: 'mupets_collector_records_cut_down_total',
      help: 'Records the broker refused whole, published cut down',
      registers,
    }),
    gaps: new Counter({
      name: 'mupets_collector_gaps_total',
      help: 'Times lines were rotated away before collection',
      registers,
    }),
    outages: new Counter({
      name: 'mupets_collector_outages_total',
      help: 'Times reading paused because the broker or position store failed',
      registers,
    }),
    followed: new Gauge({ name: 'mupets_collector_containers_followed', help: 'Log streams open', registers }),
    buffered: new Gauge({
      name: 'mupets_collector_records_buffered',
      help: 'Records read and not yet published',
      registers,
      collect() {
        let total = 0;
        for (const follower of followers.values()) {
          total += follower.queue.length;
        }
        this.set(total);
      },
    }),
  };
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? (error as { statusCode?: number }).statusCode
    : undefined;
}

/** Errors from the broker or Redis (positions), as opposed to Docker's. */
function isDependencyError(error: unknown): boolean {
  return statusOf(error) === undefined && !/docker|ENOENT|socket/i.test(messageOf(error));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
