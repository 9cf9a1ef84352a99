import type Redis from 'ioredis';
import { errorMessage } from '../dead-letter';
import { deliverBatch, type DeliveryBackend } from '../delivery-policy';
import { serializeEnvelope, type Envelope } from '../envelope.schema';
import type { BrokerLogger } from '../logger';
import { closeConnection, openConnection, waitForReady, type RedisTarget } from './connection';
import { backoffMs, sleep } from '../sleep';
import { ENVELOPE_FIELD, entriesOf, parseEntry, type RawEntry } from './entry';
import type { ResolvedConsumeOptions } from '../consume-options';
import type { BatchHandler, Consumer } from '../types';

/** What a consumer needs from the broker that created it. */
export interface ConsumerContext {
  readonly target: RedisTarget;
  readonly main: Redis;
  readonly logger: BrokerLogger;
  /** The largest envelope the broker publishes: what bounds the bytes of a read. */
  readonly maxMessageBytes: number;
  keyOf(channel: string): string;
  deadLetterChannel(channel: string): string;
}

/** An entry read or claimed, with the deliveries Redis counts for it. */
interface ClaimedEntry {
  readonly entry: RawEntry;
  readonly deliveries: number;
}

/**
 * One member of a consumer group. Reads with XREADGROUP on its own (blocking) connection, runs the
 * handler, XACKs what succeeded. Entries left pending (handler failed, or a consumer died) are
 * reclaimed with XAUTOCLAIM once idle for `minIdleMs`; after `maxDeliveries` handler failures they
 * move to the dead-letter channel, atomically with their XACK, so an entry is always in exactly one
 * place. Redis counts every takeover as a delivery, also one by a consumer that was replaced before
 * its handler finished (restarts while the archive is down): those are not failures, so the
 * failures are counted apart, in a hash beside the stream (`<stream>:failures:<group>`).
 */
export class StreamConsumer implements Consumer {
  readonly name: string;
  readonly stopped: Promise<void>;
  private readonly key: string;
  /** Handler failures per pending entry id (a field is removed when the entry is acked). */
  private readonly failuresKey: string;
  private readonly conn: Redis;
  private readonly abort = new AbortController();
  private clientId: number | undefined;
  private blocked = false;
  private readonly delivery: DeliveryBackend<ClaimedEntry>;

  constructor(
    private readonly ctx: ConsumerContext,
    readonly channel: string,
    readonly group: string,
    private readonly handler: BatchHandler,
    private readonly options: ResolvedConsumeOptions,
  ) {
    this.name = options.consumer;
    this.key = ctx.keyOf(channel);
    // channel and group names never hold a colon, so no channel's key can be this one
    this.failuresKey = `${this.key}:failures:${group}`;
    this.conn = openConnection(ctx.target, `consumer:${group}`, ctx.logger);
    this.delivery = {
      channel,
      deadLetterChannel: ctx.deadLetterChannel(channel),
      group,
      consumer: this.name,
      logger: ctx.logger,
      // Redis counts every takeover as a delivery: handler failures are counted apart (failuresKey)
      limits: { maxDeliveries: options.maxDeliveries, deliveriesMeanFailures: false },
      read: ({ entry, deliveries }) => ({ ...parseEntry(entry, { key: this.key, channel }), deliveries }),
      countFailure: ({ entry: [id] }) => this.ctx.main.hincrby(this.failuresKey, id, 1),
      // left pending: reclaimed once idle for minIdleMs
      retry: () => undefined,
      ack: (items) => this.ack(items.map(({ entry: [id] }) => id)),
      storeDeadLetter: ({ entry: [id] }, letter) => this.storeDeadLetter(id, letter),
    };
    this.stopped = this.run().finally(() => closeConnection(this.conn));
  }

  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) {
      this.abort.abort();
    }
    // a blocked XREADGROUP returns at once (as if it timed out) when unblocked from another connection
    while (this.blocked && this.clientId !== undefined) {
      await this.ctx.main.client('UNBLOCK', this.clientId).catch(() => undefined);
      await Promise.race([this.stopped, sleep(50)]);
    }
    await this.stopped;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let nextReclaimAt = 0;
    let groupReady = false;
    while (!this.stopping) {
      try {
        await waitForReady(this.conn);
        if (!groupReady) {
          await this.ensureGroup();
          groupReady = true;
        }
        this.clientId = await this.conn.client('ID');
        if (performance.now() >= nextReclaimAt) {
          await this.reclaim();
          nextReclaimAt = performance.now() + this.options.reclaimIntervalMs;
        }
        if (this.stopping) {
          break;
        }
        const entries = await this.readNew();
        if (entries.length > 0) {
          await this.process(entries.map((entry) => ({ entry, deliveries: 1 })));
        }
        failures = 0;
      } catch (error) {
        if (this.stopping) {
          break;
        }
        if (error instanceof Error && error.message.startsWith('NOGROUP')) {
          groupReady = false;
        }
        failures++;
        if (failures === 1) {
          this.ctx.logger.warn('consumer read failed, retrying', {
            channel: this.channel,
            group: this.group,
            consumer: this.name,
            error: (error as Error).message,
          });
        }
        await sleep(backoffMs(failures), this.abort.signal);
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.ctx.main.xgroup('CREATE', this.key, this.group, this.options.startId, 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) {
        throw error;
      }
    }
    // listed in the group from now on: a blocked XREADGROUP on an empty stream does not list it
    // (Redis 7.0), and a group without a listed consumer looks idle to removeGroup
    await this.ctx.main.xgroup('CREATECONSUMER', this.key, this.group, this.name);
  }

  /**
   * Entries that may be read at once with `bytes` of the batch's allowance left: as many as fit if
   * each were as large as the broker allows (at least one, so an allowance below one entry still reads).
   */
  private entriesThatFit(bytes: number, minimum: number): number {
    return Math.max(minimum, Math.floor(bytes / this.ctx.maxMessageBytes));
  }

  /**
   * The next batch of new entries: a blocking read, then non-blocking ones while the stream has more,
   * each asking for no more entries than the batch's byte allowance holds at the largest size. Small
   * entries fill `batchSize` in a few round trips; the largest never exceed `maxBatchBytes`.
   */
  private async readNew(): Promise<RawEntry[]> {
    const { batchSize, maxBatchBytes } = this.options;
    const count = Math.min(batchSize, this.entriesThatFit(maxBatchBytes, 1));
    this.blocked = true;
    let entries: RawEntry[];
    try {
      entries = entriesOf(
        await this.conn.xreadgroup(
          'GROUP',
          this.group,
          this.name,
          'COUNT',
          count,
          'BLOCK',
          this.options.blockMs,
          'STREAMS',
          this.key,
          '>',
        ),
      );
    } finally {
      this.blocked = false;
    }
    let bytes = entriesBytes(entries);
    // a read that came back full: the stream may hold more
    let full = entries.length === count;
    while (full && entries.length < batchSize && !this.stopping) {
      const room = Math.min(batchSize - entries.length, this.entriesThatFit(maxBatchBytes - bytes, 0));
      if (room === 0) {
        break;
      }
      const more = entriesOf(
        await this.conn.xreadgroup('GROUP', this.group, this.name, 'COUNT', room, 'STREAMS', this.key, '>'),
      );
      entries = entries.concat(more);
      bytes += entriesBytes(more);
      full = more.length === room;
    }
    return entries;
  }

  /** Takes over entries idle for `minIdleMs` (from dead consumers, or failed here earlier). */
  private async reclaim(): Promise<void> {
    let cursor = '0-0';
    for (let round = 0; round < 100 && !this.stopping; round++) {
      const reply = (await this.ctx.main.xautoclaim(
        this.key,
        this.group,
        this.name,
        this.options.minIdleMs,
        cursor,
        'COUNT',
        // each round is one batch: bounded by bytes as new entries are (see readNew)
        Math.min(this.options.batchSize, this.entriesThatFit(this.options.maxBatchBytes, 1)),
      )) as [string, RawEntry[], string[]?];
      const [next, claimed, deleted = []] = reply;
      if (deleted.length > 0) {
        // trimmed away while pending (only possible if trimmed outside this broker): nothing to deliver
        await this.ctx.main
          .multi()
          .xack(this.key, this.group, ...deleted)
          .hdel(this.failuresKey, ...deleted)
          .exec();
      }
      if (claimed.length > 0) {
        const counts = await this.deliveryCounts(claimed.map(([id]) => id));
        await this.process(claimed.map((entry) => ({ entry, deliveries: counts.get(entry[0]) ?? 1 })));
      }
      if (next === '0-0') {
        return;
      }
      cursor = next;
    }
  }

  /** Delivery counts of entries just claimed (pages through XPENDING, which may list others too). */
  private async deliveryCounts(ids: readonly string[]): Promise<Map<string, number>> {
    const wanted = new Set(ids);
    const counts = new Map<string, number>();
    const last = ids[ids.length - 1]!;
    let start = ids[0]!;
    for (;;) {
      const rows = (await this.ctx.main.xpending(this.key, this.group, start, last, 1000, this.name)) as Array<
        [string, string, number, number]
      >;
      for (const [id, , , deliveries] of rows) {
        if (wanted.has(id)) {
          counts.set(id, deliveries);
        }
      }
      if (rows.length < 1000 || counts.size === wanted.size) {
        return counts;
      }
      start = `(${rows[rows.length - 1]![0]}`;
    }
  }

  private async process(items: ClaimedEntry[]): Promise<void> {
    await deliverBatch(items, this.handler, this.delivery);
  }

  /** The handler's work is done: keep trying to ack (a lost ack only means a harmless redelivery). */
  private async ack(ids: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await waitForReady(this.ctx.main, this.options.minIdleMs);
        const results = await this.ctx.main
          .multi()
          .xack(this.key, this.group, ...ids)
          .hdel(this.failuresKey, ...ids)
          .exec();
        const refused = results?.find(([error]) => error)?.[0];
        if (refused) {
          throw refused;
        }
        return;
      } catch (error) {
        if (attempt >= 20) {
          this.ctx.logger.error('ack failed; entries will be redelivered', {
            count: ids.length,
            error: errorMessage(error),
          });
          return;
        }
        await sleep(backoffMs(attempt));
      }
    }
  }

  /** Writes the dead letter and acks its entry in one transaction: the entry is in exactly one place. */
  private async storeDeadLetter(id: string, letter: Envelope): Promise<boolean> {
    const json = serializeEnvelope(letter, Number.POSITIVE_INFINITY);
    await this.ctx.main
      .multi()
      .xadd(this.ctx.keyOf(letter.channel), '*', ENVELOPE_FIELD, json)
      .xack(this.key, this.group, id)
      .hdel(this.failuresKey, id)
      .exec();
    return true;
  }
}

/** The size of entries as read (their field values' characters: a byte each for the JSON text). */
function entriesBytes(entries: readonly RawEntry[]): number {
  let bytes = 0;
  for (const [, fields] of entries) {
    for (const field of fields ?? []) {
      bytes += field.length;
    }
  }
  return bytes;
}
