import type Redis from 'ioredis';
import { BrokerBase } from '../broker-base';
import { assertName, DEFAULT_MAX_MESSAGE_BYTES, type MessageInput } from '../envelope.schema';
import { serializeMessage, serializeMessages } from '../envelope-batch';
import { BrokerUnavailableError } from '../errors';
import { type BrokerLogger, silentLogger } from '../logger';
import { Publisher } from './publisher';
import { closeConnection, openConnection, waitForReady, type RedisTarget } from './connection';
import { defineSafeTrim, safeTrim } from './safe-trim';
import { defineXaddBatch } from './xadd-batch';
import { resolveRange, resolveReplay } from '../range-options';
import { resolveConsumeOptions } from '../consume-options';
import { StreamConsumer } from './consumer';
import { parseEntry, type RawEntry } from './entry';
import { isStreamId, streamIdTime } from './stream-id';
import { positiveInteger, publishQueueOptions, type PublishSettings } from '../publish-queue';
import { openTail } from './tail';
import type {
  BatchHandler,
  Broker,
  ChannelStats,
  ConsumeOptions,
  Consumer,
  GroupStats,
  RangeOptions,
  ReplayOptions,
  StreamEntry,
  Tail,
  TailOptions,
  TrimOptions,
  RemoveGroupOptions,
  RemoveGroupResult,
  TrimResult,
} from '../types';

/** `url`: `redis://host:port[/db]`; `username` and `password`: the ACL user every connection logs in as. */
export interface RedisBrokerOptions extends RedisTarget, PublishSettings {
  /** Prefix of every stream key (`<prefix><channel>`). Default `mupets:`. */
  keyPrefix?: string;
  logger?: BrokerLogger;
  /** Largest serialized envelope accepted. Default 64 KiB. */
  maxMessageBytes?: number;
  /** XADDs per pipeline. Default 500. */
  publishBatchSize?: number;
}

/** removeGroup: a consumer that read within this window makes its group in use. */
const DEFAULT_ACTIVE_WITHIN_MS = 60_000;
/** The broker over Redis Streams. Connects at once; `ready()` tells when. */
export function createRedisBroker(options: RedisBrokerOptions): Broker {
  return new RedisBroker(options);
}

class RedisBroker extends BrokerBase implements Broker {
  private readonly main: Redis;
  protected readonly publisher: Publisher;
  protected readonly logger: BrokerLogger;
  private readonly keyPrefix: string;
  private readonly maxMessageBytes: number;
  /** Channel names already checked: publishing is hot. */

  constructor(protected readonly options: RedisBrokerOptions) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.keyPrefix = options.keyPrefix ?? 'mupets:';
    this.maxMessageBytes = positiveInteger('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES);
    // checked before the connection opens: a bad setting leaves nothing behind its RangeError
    const publishOptions = publishQueueOptions(options, 500);
    this.main = openConnection(options, 'main', this.logger);
    defineSafeTrim(this.main);
    defineXaddBatch(this.main);
    this.publisher = new Publisher(this.main, { ...publishOptions, maxInFlightBatches: 4 }, this.logger);
  }

  async ready(timeoutMs?: number): Promise<void> {
    try {
      await waitForReady(this.main, timeoutMs);
    } catch (error) {
      throw new BrokerUnavailableError(`redis: ${(error as Error).message}`, { cause: error });
    }
  }

  publish(channel: string, message: MessageInput): Promise<string>;
  publish(channel: string, messages: readonly MessageInput[]): Promise<string[]>;
  publish(channel: string, input: MessageInput | readonly MessageInput[]): Promise<string | string[]> {
    try {
      this.assertOpen();
      this.assertChannel(channel);
      if (!isBatch(input)) {
        return this.publisher.publishOne(this.keyOf(channel), serializeMessage(channel, input, this.maxMessageBytes));
      }
      return this.publisher.publish(this.keyOf(channel), serializeMessages(channel, input, this.maxMessageBytes));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  consume(channel: string, group: string, handler: BatchHandler, options?: ConsumeOptions): Consumer {
    this.assertOpen();
    assertName('channel', channel);
    assertName('group', group);
    const consumer = new StreamConsumer(
      {
        target: this.options,
        main: this.main,
        logger: this.logger,
        maxMessageBytes: this.maxMessageBytes,
        keyOf: (name) => this.keyOf(name),
        deadLetterChannel: (name) => this.deadLetterChannel(name),
      },
      channel,
      group,
      handler,
      resolveConsumeOptions(options),
    );
    return this.track(consumer);
  }

  tail(channel: string, options?: TailOptions): Tail {
    this.assertOpen();
    assertName('channel', channel);
    const tail = openTail(
      this.main,
      this.options,
      this.keyOf(channel),
      channel,
      this.logger,
      options,
      this.untrackTail,
    );
    this.tails.add(tail);
    return tail;
  }

  async stats(channel: string): Promise<ChannelStats> {
    assertName('channel', channel);
    const key = this.keyOf(channel);
    const [length, first, last] = await Promise.all([
      this.main.xlen(key),
      this.main.xrange(key, '-', '+', 'COUNT', 1),
      this.main.xrevrange(key, '+', '-', 'COUNT', 1),
    ]);
    const groups = await this.groupStats(key).catch((error: unknown) => {
      if (error instanceof Error && /no such key/i.test(error.message)) {
        return [];
      }
      throw error;
    });
    return { channel, length, firstId: first[0]?.[0] ?? null, lastId: last[0]?.[0] ?? null, groups };
  }

  async trim(channel: string, options: TrimOptions): Promise<TrimResult> {
    assertName('channel', channel);
    const key = this.keyOf(channel);
    let removed = 0;
    let heldBackByGroup = false;
    const heldBy = new Set<string>();
    if (options.maxAgeMs !== undefined) {
      const target = `${Math.max(0, Date.now() - options.maxAgeMs)}-0`;
      const result = await safeTrim(this.main, key, target);
      removed += result.removed;
      heldBackByGroup ||= result.held;
      result.heldBy.forEach((group) => heldBy.add(group));
    }
    if (options.maxLen !== undefined && !heldBackByGroup) {
      // find the first id to keep, 10k entries at a time, and let the script cut below it
      for (;;) {
        const excess = (await this.main.xlen(key)) - options.maxLen;
        if (excess <= 0) {
          break;
        }
        const step = Math.min(excess, 10_000);
        const rows = (await this.main.xrange(key, '-', '+', 'COUNT', step + 1)) as Array<[string, string[]]>;
        const target = rows[step]?.[0] ?? incrementId(rows[rows.length - 1]![0]);
        const result = await safeTrim(this.main, key, target);
        removed += result.removed;
        result.heldBy.forEach((group) => heldBy.add(group));
        if (result.held) {
          heldBackByGroup = true;
          break;
        }
      }
    }
    return { removed, heldBackByGroup, heldBy: [...heldBy].sort() };
  }

  async range(channel: string, options?: RangeOptions): Promise<StreamEntry[]> {
    assertName('channel', channel);
    const { start, end, count, reverse } = resolveRange(options);
    return (await this.readEntries(channel, start ?? '-', end ?? '+', count, reverse)).entries;
  }

  async *replay(channel: string, group: string, options: ReplayOptions): AsyncIterable<StreamEntry[]> {
    assertName('channel', channel);
    assertName('group', group);
    const { windowMs, count } = resolveReplay(options);
    const last = (await this.stats(channel)).groups.find((g) => g.name === group)?.lastDeliveredId;
    if (!last || !isStreamId(last) || last === '0-0') {
      return;
    }
    let start = `${Math.max(0, streamIdTime(last) - windowMs)}-0`;
    for (;;) {
      const { entries, read, lastId } = await this.readEntries(channel, start, last, count, false);
      if (entries.length > 0) {
        yield entries;
      }
      if (read < count || lastId === undefined) {
        return;
      }
      start = incrementId(lastId);
    }
  }

  /**
   * XRANGE (or XREVRANGE) of up to `count` entries, parsed; one that is not a valid envelope is
   * skipped and logged. `read` and `lastId` count what the stream gave, skipped entries included.
   */
  private async readEntries(
    channel: string,
    start: string,
    end: string,
    count: number,
    reverse: boolean,
  ): Promise<{ entries: StreamEntry[]; read: number; lastId: string | undefined }> {
    const key = this.keyOf(channel);
    const rows = (
      reverse
        ? await this.main.xrevrange(key, end, start, 'COUNT', count)
        : await this.main.xrange(key, start, end, 'COUNT', count)
    ) as RawEntry[];
    const entries: StreamEntry[] = [];
    for (const row of rows) {
      const parsed = parseEntry(row, { key, channel });
      if (parsed.ok) {
        entries.push({ id: parsed.id, channel, envelope: parsed.envelope });
      } else {
        this.logger.warn('range skipped a malformed entry', { channel, id: parsed.id, error: parsed.error.message });
      }
    }
    return { entries, read: rows.length, lastId: rows[rows.length - 1]?.[0] };
  }

  async remove(channel: string, ids: readonly string[]): Promise<number> {
    assertName('channel', channel);
    if (ids.length === 0) {
      return 0;
    }
    const bad = ids.find((id) => !isStreamId(id));
    if (bad !== undefined) {
      throw new RangeError(`remove: not an entry id: ${JSON.stringify(bad)}`);
    }
    return this.main.xdel(this.keyOf(channel), ...ids);
  }

  protected async closeTransport(drained: boolean): Promise<void> {
    if (!drained) {
      this.publisher.abort(new BrokerUnavailableError('broker closed before Redis confirmed the message'));
    }
    // in-flight XADDs (if any) are rejected by the connection's end
    await closeConnection(this.main, { graceful: drained });
  }

  async removeGroup(channel: string, group: string, options: RemoveGroupOptions = {}): Promise<RemoveGroupResult> {
    assertName('channel', channel);
    assertName('group', group);
    const key = this.keyOf(channel);
    const activeWithinMs = options.activeWithinMs ?? DEFAULT_ACTIVE_WITHIN_MS;
    let consumers: unknown[][];
    try {
      consumers = (await this.main.xinfo('CONSUMERS', key, group)) as unknown[][];
    } catch (error) {
      if (error instanceof Error && /NOGROUP|no such key/i.test(error.message)) {
        return 'not_found';
      }
      throw error;
    }
    // `idle`: since the consumer's last read or claim (an XREADGROUP that found nothing counts)
    if (consumers.some((row) => Number(pairs(row).idle) < activeWithinMs)) {
      return 'in_use';
    }
    return (await this.main.xgroup('DESTROY', key, group)) === 1 ? 'removed' : 'not_found';
  }

  private async groupStats(key: string): Promise<GroupStats[]> {
    const rows = (await this.main.xinfo('GROUPS', key)) as unknown[][];
    const now = Date.now();
    return Promise.all(
      rows.map(async (row) => {
        const info = pairs(row);
        const name = String(info.name);
        const pending = Number(info.pending);
        let oldestPendingId: string | null = null;
        if (pending > 0) {
          const summary = (await this.main.xpending(key, name)) as [number, string | null, string | null, unknown];
          oldestPendingId = summary[1];
        }
        return {
          name,
          consumers: Number(info.consumers),
          pending,
          lastDeliveredId: String(info['last-delivered-id']),
          lag: info.lag === null || info.lag === undefined ? null : Number(info.lag),
          oldestPendingId,
          oldestPendingAgeMs: oldestPendingId ? Math.max(0, now - streamIdTime(oldestPendingId)) : null,
        };
      }),
    );
  }

  private keyOf(channel: string): string {
    return `${this.keyPrefix}${channel}`;
  }
}

function isBatch(input: MessageInput | readonly MessageInput[]): input is readonly MessageInput[] {
  return Array.isArray(input);
}

function pairs(row: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < row.length; i += 2) {
    out[String(row[i])] = row[i + 1];
  }
  return out;
}

function incrementId(id: string): string {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq!) + 1n}`;
}
