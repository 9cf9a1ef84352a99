import { performance } from 'node:perf_hooks';
import { ArchiveUnavailableError, type Archive, type ArchiveInput } from '@mupets/archive';
import type { Broker, Consumer, Delivery, HandlerResult } from '@mupets/broker';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { ChannelGate } from './channel-gate';
import { replayRecent } from './replay';

export interface ArchiverLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

export interface ArchiverOptions {
  broker: Broker;
  archive: Archive;
  logger: ArchiverLogger;
  registry: Registry;
  channels: readonly string[];
  group: string;
  /** Consumers per channel, each writing its own batches: OrientDB commits two at once on two cores. */
  concurrency: number;
  batchSize: number;
  /** Bytes of a batch, at most (the broker's consume option). */
  maxBatchBytes: number;
  maxWaitMs: number;
  minIdleMs: number;
  maxDeliveries: number;
  /** Streams are trimmed to about this many entries after archiving (never un-acked ones); 0 = never. */
  streamMaxLen: number;
  /** How often streams are trimmed. */
  trimIntervalMs: number;
  /** Records older than this are deleted every `retentionIntervalMs`; 0 = keep everything. */
  retentionMs: number;
  retentionIntervalMs: number;
  /** At start and after each outage, messages this far back are written again (see replay.ts); 0 = never. */
  replayWindowMs: number;
  /**
   * The base of this process's archive writer ids, one per consumer (`<writerId>-<k>`): the same
   * after a restart, so restarts do not add count rows, and never shared by two running archivers
   * (writer-slot.ts).
   */
  writerId: string;
}

export interface Archiver {
  /** False while OrientDB is unreachable (messages then wait in the stream, un-acked). */
  readonly archiveUp: boolean;
  /** Stops reading; the batch in flight is committed and acked (or left pending if it cannot be). */
  stop(): Promise<void>;
}

/**
 * The archiver's loop: `concurrency` consumers per channel in one group; each batch is written to the archive
 * in one transaction and acked only after it committed. While OrientDB is unreachable the batch
 * waits and retries with back-off (it is never failed, so it never counts towards dead-lettering);
 * records the archive refuses for good are dead-lettered with the reason; anything unexpected
 * fails the batch, and the broker retries it entry by entry and dead-letters after maxDeliveries.
 */
export async function startArchiver(options: ArchiverOptions): Promise<Archiver> {
  const { broker, archive, logger } = options;
  const metrics = createMetrics(options);
  /** Per channel, the groups that held its last trim back (what was logged). */
  const heldBack = new Map<string, string>();
  const stopping = new AbortController();
  let archiveUp = true;

  // replays run in a handler of their channel (or before the consumers start), never beside a
  // write of the same channel: two transactions racing on one uid would make one fail
  const needsReplay = new Set<string>();
  const gates = new Map(options.channels.map((channel) => [channel, new ChannelGate()]));
  const replay = async (channel: string, why: string): Promise<void> => {
    if (options.replayWindowMs <= 0) {
      return;
    }
    try {
      const restored = await replayRecent({
        broker,
        archive,
        channel,
        group: options.group,
        windowMs: options.replayWindowMs,
        batchSize: options.batchSize,
      });
      metrics.restored.inc({ channel }, restored);
      const log = restored > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
      log('recent messages checked against the archive', { channel, why, restored });
    } catch (error) {
      needsReplay.add(channel);
      logger.warn('replay of recent messages failed; retried after the next batch', {
        channel,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  };

  const setUp = (up: boolean, error?: unknown): void => {
    if (up !== archiveUp) {
      archiveUp = up;
      metrics.up.set(up ? 1 : 0);
      if (up) {
        logger.info('archive reachable again; archiving resumes');
      } else {
        options.channels.forEach((channel) => needsReplay.add(channel));
        logger.warn('archive unreachable; messages wait in the stream until it is back', {
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  };

  // each consumer writes as a writer of its own (see Archive.write)
  const handlerFor =
    (writer: string) =>
    async (batch: readonly Delivery[]): Promise<HandlerResult> => {
      const channel = batch[0]!.channel;
      const gate = gates.get(channel)!;
      const inputs: ArchiveInput[] = batch.map((d) => ({ brokerId: d.id, channel: d.channel, envelope: d.envelope }));
      for (let attempt = 0; ; attempt++) {
        if (stopping.signal.aborted) {
          // left pending: the next archiver (or this one, restarted) takes them over
          const error = new Error('archiver stopped before the archive came back');
          return { failed: batch.map((d) => ({ id: d.id, error })) };
        }
        const started = performance.now();
        try {
          const result = await gate.write(() => archive.write(inputs, writer));
          metrics.latency.observe((performance.now() - started) / 1000);
          metrics.batchSize.observe(batch.length);
          metrics.archived.inc({ channel }, result.stored);
          metrics.duplicates.inc({ channel }, result.duplicates);
          metrics.rejected.inc({ channel }, result.rejected.length);
          setUp(true);
          if (needsReplay.delete(channel)) {
            await gate.exclusive(() => replay(channel, 'archive back after an outage'));
          }
          for (const { input, reason } of result.rejected) {
            logger.warn('archive refused a message; dead-lettering it', { channel, id: input.brokerId, reason });
          }
          return {
            failed: result.rejected.map(({ input, reason }) => ({
              id: input.brokerId,
              error: new Error(`archive refused it: ${reason}`),
              deadLetter: true,
            })),
          };
        } catch (error) {
          if (!(error instanceof ArchiveUnavailableError)) {
            metrics.failures.inc({ kind: 'error' });
            throw error;
          }
          metrics.failures.inc({ kind: 'unavailable' });
          setUp(false, error);
          await sleep(Math.min(5000, 100 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2), stopping.signal);
        }
      }
    };

  for (const channel of options.channels) {
    await replay(channel, 'start');
  }
  const consumers: Consumer[] = options.channels.flatMap((channel) =>
    Array.from({ length: options.concurrency }, (_, k) =>
      broker.consume(channel, options.group, handlerFor(`${options.writerId}-${k}`), {
        batchSize: options.batchSize,
        maxBatchBytes: options.maxBatchBytes,
        blockMs: options.maxWaitMs,
        minIdleMs: options.minIdleMs,
        maxDeliveries: options.maxDeliveries,
      }),
    ),
  );
  const timers = [
    options.streamMaxLen > 0 ? every(options.trimIntervalMs, () => trimStreams(options, metrics, heldBack)) : undefined,
    options.retentionMs > 0 ? every(options.retentionIntervalMs, () => applyRetention(options)) : undefined,
  ];
  logger.info('archiver started', {
    channels: options.channels,
    group: options.group,
    batchSize: options.batchSize,
    concurrency: options.concurrency,
  });

  return {
    get archiveUp() {
      return archiveUp;
    },
    async stop() {
      for (const timer of timers) {
        clearInterval(timer);
      }
      // consumers finish their batch first; a batch stuck on an unreachable archive gives up
      const stopped = Promise.all(consumers.map((c) => c.stop()));
      if (!archiveUp) {
        stopping.abort();
      }
      await Promise.race([stopped, sleep(2000, stopping.signal)]);
      stopping.abort();
      await stopped;
    },
  };
}

function createMetrics(options: ArchiverOptions) {
  const registers = [options.registry];
  const up = new Gauge({ name: 'mupets_archiver_archive_up', help: '1 while OrientDB answers', registers });
  up.set(1);
  return {
    up,
    archived: new Counter({
      name: 'mupets_archiver_archived_total',
      help: 'Messages newly stored in the archive',
      labelNames: ['channel'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: 'mupets_archiver_duplicates_total',
      help: 'Redelivered messages found already archived',
      labelNames: ['channel'] as const,
      registers,
    }),
    restored: new Counter({
      name: 'mupets_archiver_restored_total',
      help: 'Acked messages found missing from the archive by a replay and stored again',
      labelNames: ['channel'] as const,
      registers,
    }),
    rejected: new Counter({
      name: 'mupets_archiver_dead_lettered_total',
      help: 'Messages the archive refused, dead-lettered with the reason',
      labelNames: ['channel'] as const,
      registers,
    }),
    failures: new Counter({
      name: 'mupets_archiver_write_failures_total',
      help: 'Failed batch writes, by kind (unavailable: OrientDB unreachable; error: anything else)',
      labelNames: ['kind'] as const,
      registers,
    }),
    batchSize: new Histogram({
      name: 'mupets_archiver_batch_size',
      help: 'Messages per archived batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    latency: new Histogram({
      name: 'mupets_archiver_batch_write_seconds',
      help: 'Time to commit one batch to OrientDB',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    lag: new Gauge({
      name: 'mupets_archiver_lag_messages',
      help: 'Messages not yet archived: unread by the group plus delivered and not acked',
      labelNames: ['channel'] as const,
      registers,
      // read from the broker at each scrape
      async collect() {
        for (const channel of options.channels) {
          const stats = await options.broker.stats(channel).catch(() => undefined);
          const group = stats?.groups.find((g) => g.name === options.group);
          if (group && group.lag !== null) {
            this.set({ channel }, group.lag + group.pending);
          }
        }
      },
    }),
    trimmed: new Counter({
      name: 'mupets_archiver_trimmed_total',
      help: 'Stream entries removed by trimming to ARCHIVER_STREAM_MAX_LEN (all archived and acked)',
      labelNames: ['channel'] as const,
      registers,
    }),
    trimHeld: new Gauge({
      name: 'mupets_archiver_trim_held_back',
      help: '1 while a consumer group keeps a channel from being trimmed to ARCHIVER_STREAM_MAX_LEN',
      labelNames: ['channel', 'group'] as const,
      registers,
    }),
  };
}

/**
 * Trims each channel to `streamMaxLen`, never past what a group has not acked. A group that holds
 * the trim back is logged when it starts and stops doing so, and shown by a metric meanwhile: a
 * retired service's group holds a channel for good (remove it, docs/docker.md).
 */
async function trimStreams(
  options: ArchiverOptions,
  metrics: Pick<ReturnType<typeof createMetrics>, 'trimmed' | 'trimHeld'>,
  heldBack: Map<string, string>,
): Promise<void> {
  for (const channel of options.channels) {
    const result = await options.broker.trim(channel, { maxLen: options.streamMaxLen });
    // counted, not logged: the archiver's log lines go to `logs`, so a line per trim would land in
    // the stream it trimmed and call for the next trim, one line per interval for ever
    metrics.trimmed.inc({ channel }, result.removed);
    const holders = result.heldBy.join(',');
    const before = heldBack.get(channel) ?? '';
    if (holders !== before) {
      for (const group of before.split(',').filter(Boolean)) {
        metrics.trimHeld.remove({ channel, group });
      }
      if (holders) {
        const stats = await options.broker.stats(channel).catch(() => undefined);
        options.logger.warn('stream trimming held back: these groups have entries they have not acked', {
          channel,
          groups: result.heldBy,
          length: stats?.length,
          maxLen: options.streamMaxLen,
        });
      } else {
        options.logger.info('stream trimming no longer held back', { channel, groups: before.split(',') });
      }
      heldBack.set(channel, holders);
    }
    for (const group of result.heldBy) {
      metrics.trimHeld.set({ channel, group }, 1);
    }
  }
}

async function applyRetention(options: ArchiverOptions): Promise<void> {
  const cutoff = new Date(Date.now() - options.retentionMs);
  const deleted = await options.archive.deleteOlderThan(cutoff);
  if (deleted > 0) {
    options.logger.info('retention deleted old records', { deleted, before: cutoff.toISOString() });
  }
}

function every(ms: number, task: () => Promise<void>): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) {
      return;
    }
    running = true;
    task()
      .catch(() => undefined)
      .finally(() => {
        running = false;
      });
  }, ms);
  timer.unref();
  return timer;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
