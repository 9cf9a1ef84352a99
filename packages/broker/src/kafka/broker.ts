import { hostname } from 'node:os';
import { Admin, ListOffsetTimestamps, ProduceAcks, Producer } from '@platformatic/kafka';
import {
  assertName,
  buildEnvelope,
  DEFAULT_MAX_MESSAGE_BYTES,
  serializeEnvelope,
  type Envelope,
  type MessageInput,
} from '../envelope.schema';
import { BrokerBase } from '../broker-base';
import { convertMessages } from '../envelope-batch';
import { BrokerUnavailableError } from '../errors';
import {
  baseClientOptions,
  TopicRegistry,
  watchClient,
  type KafkaCredentials,
  type KafkaSettings,
  type TopicLayout,
} from './client';
import { KafkaStreamConsumer } from './consumer';
import { isKafkaId } from './id';
import { decodeDeliveryState } from './delivery-state';
import { groupStatsOf, lengthCuts, trimPlan, type GroupOffsets, type PartitionBounds } from './offsets';
import { KafkaPublisher, type OutgoingMessage } from './publisher';
import { readKafkaRange, readKafkaReplay, type KafkaRangeContext } from './range';
import { positiveInteger, publishQueueOptions, type PublishSettings } from '../publish-queue';
import { openKafkaTail } from './tail';
import { resolveRange, resolveReplay } from '../range-options';
import { type BrokerLogger, silentLogger } from '../logger';
import { resolveConsumeOptions } from '../consume-options';
import type {
  BatchHandler,
  Broker,
  ChannelStats,
  ConsumeOptions,
  Consumer,
  RangeOptions,
  ReplayOptions,
  StreamEntry,
  Tail,
  TailOptions,
  TrimOptions,
  RemoveGroupResult,
  TrimResult,
} from '../types';

export interface KafkaBrokerOptions extends PublishSettings {
  /** Bootstrap brokers: `host:port`, as a list or comma-separated (the form of `KAFKA_BROKERS`). */
  brokers: string | readonly string[];
  /**
   * Prefix of every topic (`<prefix><channel>`) and consumer group id (`<prefix><channel>/<group>`).
   * Letters, digits, `.`, `_` and `-`. Default `mupets.`.
   */
  topicPrefix?: string;
  /** Client id sent to Kafka (its logs and quotas name it). Default `mupets-<host>`. */
  clientId?: string;
  /**
   * Partitions of the topics this broker creates (a topic that exists is used as it is). One keeps a
   * channel in publish order, as a Redis stream is; more let that many group members work in
   * parallel, ordered per partition (a message's partition follows its `source.service`). Default 1.
   */
  partitions?: number;
  /** Replicas of the topics this broker creates. Default: the Kafka cluster's `default.replication.factor`. */
  replicationFactor?: number;
  logger?: BrokerLogger;
  /** Largest serialized envelope accepted. Default 64 KiB; at most 900 000 (Kafka's record batches are 1 MiB). */
  maxMessageBytes?: number;
  /** Messages per produce request. Default 5000 (requests are also capped at 1 MB). */
  publishBatchSize?: number;
  /** The SASL user every client logs in as (the prod stack's Kafka: SCRAM-SHA-512). Default: none. */
  sasl?: KafkaCredentials;
  /**
   * The shortest session timeout the Kafka cluster allows (its `group.min.session.timeout.ms`,
   * 6000 by default). A consumer's `minIdleMs` below it is raised to it. Default 6000 ms.
   */
  minSessionTimeoutMs?: number;
}

const TOPIC_PREFIX_RE = /^[a-zA-Z0-9._-]{0,100}$/;
const BROKER_RE = /^[^\s:,]+:\d{1,5}$/;
// a record batch may not exceed 1 MiB (message.max.bytes); leave room for the batch and key
const MAX_KAFKA_MESSAGE_BYTES = 900_000;
// one request carries one record batch per partition: keep it under that 1 MiB (bigger requests
// publish faster: one request is in flight at a time)
const MAX_REQUEST_BYTES = 1_000_000;
// Kafka's group.max.session.timeout.ms default
const MAX_SESSION_TIMEOUT_MS = 1_800_000;

/** The broker over Kafka topics and consumer groups. Connects lazily; `ready()` checks the cluster answers. */
export function createKafkaBroker(options: KafkaBrokerOptions): Broker {
  return new KafkaBroker(options);
}

/** `host:port,host:port` → a validated list; throws RangeError naming the field and the rule. */
export function parseKafkaBrokers(brokers: string | readonly string[]): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : [...brokers]).map((b) => b.trim()).filter(Boolean);
  if (list.length === 0 || !list.every((b) => BROKER_RE.test(b))) {
    throw new RangeError(`brokers must be one or more host:port, comma-separated, got ${JSON.stringify(brokers)}`);
  }
  return list;
}

class KafkaBroker extends BrokerBase implements Broker {
  private readonly settings: KafkaSettings;
  private readonly admin: Admin;
  private readonly adminWatch: { markClosing(): void };
  private readonly topics: TopicRegistry;
  protected readonly publisher: KafkaPublisher;
  protected readonly logger: BrokerLogger;
  private readonly prefix: string;
  private readonly maxMessageBytes: number;
  private readonly minSessionTimeoutMs: number;
  private readonly keys = new Map<string, Buffer>();
  private readonly producerWatches: Array<{ markClosing(): void }> = [];

  constructor(protected readonly options: KafkaBrokerOptions) {
    super();
    const logger = options.logger ?? silentLogger;
    this.logger = logger;
    this.prefix = options.topicPrefix ?? 'mupets.';
    if (!TOPIC_PREFIX_RE.test(this.prefix)) {
      throw new RangeError(`topicPrefix must be up to 100 of a-z A-Z 0-9 . _ -, got ${JSON.stringify(this.prefix)}`);
    }
    this.maxMessageBytes = positiveInteger(
      'maxMessageBytes',
      options.maxMessageBytes,
      DEFAULT_MAX_MESSAGE_BYTES,
      MAX_KAFKA_MESSAGE_BYTES,
    );
    this.minSessionTimeoutMs = positiveInteger(
      'minSessionTimeoutMs',
      options.minSessionTimeoutMs,
      6000,
      MAX_SESSION_TIMEOUT_MS,
    );
    const publishOptions = publishQueueOptions(options, 5000);
    const partitions = positiveInteger('partitions', options.partitions, 1);
    this.settings = {
      clientId: options.clientId ?? `mupets-${hostname()}`,
      bootstrapBrokers: parseKafkaBrokers(options.brokers),
      logger,
      sasl: options.sasl,
    };
    this.admin = new Admin(baseClientOptions(this.settings, 'admin'));
    this.adminWatch = watchClient(this.admin, 'admin', this.settings);
    this.topics = new TopicRegistry(this.admin, {
      partitions,
      replicationFactor: options.replicationFactor ?? -1,
    });
    this.publisher = new KafkaPublisher(
      { createProducer: () => this.createProducer(), topics: this.topics, logger },
      { ...publishOptions, maxBatchBytes: MAX_REQUEST_BYTES, maxInFlight: 4 },
    );
  }

  async ready(timeoutMs?: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answered = this.admin.metadata({ topics: [], forceUpdate: true });
      await (timeoutMs === undefined
        ? answered
        : Promise.race([
            answered,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`not connected after ${timeoutMs} ms`)), timeoutMs);
            }),
          ]));
    } catch (error) {
      throw new BrokerUnavailableError(`kafka: ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  publish(channel: string, message: MessageInput): Promise<string>;
  publish(channel: string, messages: readonly MessageInput[]): Promise<string[]>;
  publish(channel: string, input: MessageInput | readonly MessageInput[]): Promise<string | string[]> {
    try {
      this.assertOpen();
      this.assertChannel(channel);
      const topic = this.topicOf(channel);
      if (!Array.isArray(input)) {
        return this.publisher.publishOne(this.outgoing(topic, channel, input as MessageInput));
      }
      return this.publisher.publish(convertMessages(input, (message) => this.outgoing(topic, channel, message)));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  consume(channel: string, group: string, handler: BatchHandler, options?: ConsumeOptions): Consumer {
    this.assertOpen();
    assertName('channel', channel);
    assertName('group', group);
    const resolved = resolveConsumeOptions(options);
    const topic = this.topicOf(channel);
    const consumer = new KafkaStreamConsumer(
      {
        settings: this.settings,
        admin: this.admin,
        topic,
        layout: (forceUpdate) => this.ensuredLayout(topic, forceUpdate),
        groupId: this.groupIdOf(channel, group),
        sessionTimeoutMs: Math.min(Math.max(resolved.minIdleMs, this.minSessionTimeoutMs), MAX_SESSION_TIMEOUT_MS),
        deadLetterChannel: this.deadLetterChannel(channel),
        publishDeadLetter: (envelope) => this.publishDeadLetter(envelope),
      },
      channel,
      group,
      handler,
      resolved,
    );
    return this.track(consumer);
  }

  tail(channel: string, options?: TailOptions): Tail {
    this.assertOpen();
    assertName('channel', channel);
    const topic = this.topicOf(channel);
    const tail = openKafkaTail(
      {
        settings: this.settings,
        admin: this.admin,
        topic,
        channel,
        layout: (forceUpdate) => this.topics.layout(topic, forceUpdate),
        holdPublishes: (until) => this.publisher.holdUntil(until),
      },
      options,
      this.untrackTail,
    );
    this.tails.add(tail);
    return tail;
  }

  async stats(channel: string): Promise<ChannelStats> {
    assertName('channel', channel);
    const topic = this.topicOf(channel);
    const bounds = await this.bounds(topic);
    if (!bounds) {
      return { channel, length: 0, firstId: null, lastId: null, groups: [] };
    }
    const [ends, groups] = await Promise.all([this.firstAndLast(topic, bounds), this.groupsOf(channel, topic)]);
    const now = Date.now();
    return {
      channel,
      length: Number(bounds.reduce((sum, b) => sum + (b.end - b.start), 0n)),
      ...ends,
      groups: groups.map((group) => groupStatsOf(group, bounds, now)),
    };
  }

  /** Kafka keeps group membership itself: a group with a live member is in use (`activeWithinMs` is not needed). */
  async removeGroup(channel: string, group: string): Promise<RemoveGroupResult> {
    assertName('channel', channel);
    assertName('group', group);
    const id = this.groupIdOf(channel, group);
    if (!(await this.admin.listGroups()).has(id)) {
      return 'not_found';
    }
    const described = await this.admin.describeGroups({ groups: [id] });
    if ((described.get(id)?.members.size ?? 0) > 0) {
      return 'in_use';
    }
    // a member that joined since is refused by Kafka itself (GROUP_NOT_EMPTY): the error reaches the caller
    await this.admin.deleteGroups({ groups: [id] });
    return 'removed';
  }

  async trim(channel: string, options: TrimOptions): Promise<TrimResult> {
    assertName('channel', channel);
    const topic = this.topicOf(channel);
    const bounds = await this.bounds(topic);
    if (!bounds || (options.maxAgeMs === undefined && options.maxLen === undefined)) {
      return { removed: 0, heldBackByGroup: false, heldBy: [] };
    }
    const cuts = new Map(bounds.map((b) => [b.partition, b.start]));
    const raise = (more: Map<number, bigint>): void => {
      for (const [partition, cut] of more) {
        if (cut > cuts.get(partition)!) {
          cuts.set(partition, cut);
        }
      }
    };
    if (options.maxAgeMs !== undefined) {
      raise(await this.offsetsAt(topic, bounds, BigInt(Math.max(0, Date.now() - options.maxAgeMs))));
    }
    if (options.maxLen !== undefined) {
      raise(lengthCuts(bounds, options.maxLen));
    }
    const plan = trimPlan(bounds, await this.groupsOf(channel, topic), cuts);
    let removed = 0n;
    if (plan.deleteBefore.size > 0) {
      const [deleted] = await this.admin.deleteRecords({
        topics: [
          { name: topic, partitions: [...plan.deleteBefore].map(([partition, offset]) => ({ partition, offset })) },
        ],
      });
      for (const { partition, lowWatermark } of deleted?.partitions ?? []) {
        const before = bounds.find((b) => b.partition === partition)!.start;
        removed += lowWatermark > before ? lowWatermark - before : 0n;
      }
    }
    return { removed: Number(removed), heldBackByGroup: plan.heldBackByGroup, heldBy: plan.heldBy };
  }

  async range(channel: string, options?: RangeOptions): Promise<StreamEntry[]> {
    assertName('channel', channel);
    return readKafkaRange(this.rangeContext(channel), resolveRange(options));
  }

  async *replay(channel: string, group: string, options: ReplayOptions): AsyncIterable<StreamEntry[]> {
    assertName('channel', channel);
    assertName('group', group);
    const { windowMs, count } = resolveReplay(options);
    const found = (await this.groupsOf(channel, this.topicOf(channel))).find((g) => g.name === group);
    if (!found) {
      return;
    }
    const committed = new Map([...found.committed].map(([partition, { offset }]) => [partition, offset]));
    yield* readKafkaReplay(this.rangeContext(channel), committed, windowMs, count);
  }

  private rangeContext(channel: string): KafkaRangeContext {
    const topic = this.topicOf(channel);
    return {
      settings: this.settings,
      admin: this.admin,
      topic,
      channel,
      layout: (forceUpdate) => this.topics.layout(topic, forceUpdate),
    };
  }

  /** Kafka keeps a partition's records from an offset on; one record cannot be deleted: always 0. */
  remove(channel: string, ids: readonly string[]): Promise<number> {
    assertName('channel', channel);
    const bad = ids.find((id) => !isKafkaId(id));
    if (bad !== undefined) {
      return Promise.reject(new RangeError(`remove: not an entry id: ${JSON.stringify(bad)}`));
    }
    return Promise.resolve(0);
  }

  protected async closeTransport(): Promise<void> {
    for (const watch of [...this.producerWatches, this.adminWatch]) {
      watch.markClosing();
    }
    await this.publisher.abort(new BrokerUnavailableError('broker closed before Kafka confirmed the message'));
    await this.admin.close().catch(() => undefined);
  }

  private createProducer(): Producer {
    const producer = new Producer({
      ...baseClientOptions(this.settings, 'producer'),
      idempotent: true,
      acks: ProduceAcks.ALL,
      // an idempotent producer resends a request until it is stored (Kafka drops the duplicates);
      // callers are answered by their deadline meanwhile. A short pause: publishing resumes soon after an outage
      retries: Number.MAX_SAFE_INTEGER,
      retryDelay: (_client, _operation, attempt) => Math.min(250, 25 * 2 ** attempt),
    });
    this.producerWatches.push(watchClient(producer, 'producer', this.settings));
    return producer;
  }

  private outgoing(topic: string, channel: string, message: MessageInput): OutgoingMessage {
    const envelope = buildEnvelope(channel, message);
    return {
      topic,
      key: this.keyOf(envelope.source.service),
      value: Buffer.from(serializeEnvelope(envelope, this.maxMessageBytes)),
    };
  }

  /** The record key of a service (one buffer per service, not per message: publishing is hot). */
  private keyOf(service: string): Buffer {
    let key = this.keys.get(service);
    if (!key) {
      key = Buffer.from(service);
      if (this.keys.size < 10_000) {
        this.keys.set(service, key);
      }
    }
    return key;
  }

  /** A dead letter is published even while the broker closes: its consumer may be finishing a batch. */
  private async publishDeadLetter(envelope: Envelope): Promise<void> {
    const topic = this.topicOf(envelope.channel);
    await this.publisher.publishOne(
      {
        topic,
        key: Buffer.from(envelope.source.service),
        value: Buffer.from(serializeEnvelope(envelope, MAX_KAFKA_MESSAGE_BYTES)),
      },
      true,
    );
  }

  /** The topic's layout, creating the topic first (consumers need it to exist to join). */
  private async ensuredLayout(topic: string, forceUpdate = false): Promise<TopicLayout> {
    await this.topics.ensure(topic);
    const layout = await this.topics.layout(topic, forceUpdate);
    if (!layout) {
      throw new Error(`kafka topic ${topic} does not exist`);
    }
    return layout;
  }

  /** Each partition's first kept and next offset; undefined when the topic does not exist. */
  private async bounds(topic: string): Promise<PartitionBounds[] | undefined> {
    const layout = await this.topics.layout(topic);
    if (!layout) {
      return undefined;
    }
    const all = [...Array(layout.partitions).keys()];
    const [starts, ends] = await Promise.all([
      this.listOffsets(topic, all, ListOffsetTimestamps.EARLIEST),
      this.listOffsets(topic, all, ListOffsetTimestamps.LATEST),
    ]);
    return all.map((partition) => ({
      partition,
      start: starts.get(partition)?.offset ?? 0n,
      end: ends.get(partition)?.offset ?? 0n,
    }));
  }

  private async listOffsets(
    topic: string,
    partitions: readonly number[],
    timestamp: bigint,
  ): Promise<Map<number, { offset: bigint; timestamp: bigint }>> {
    const [found] = await this.admin.listOffsets({
      topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
    });
    return new Map(
      (found?.partitions ?? []).map((p) => [p.partitionIndex, { offset: p.offset, timestamp: p.timestamp }]),
    );
  }

  /** Per partition, the first offset at or after `timestamp` (the end when there is none). */
  private async offsetsAt(
    topic: string,
    bounds: readonly PartitionBounds[],
    timestamp: bigint,
  ): Promise<Map<number, bigint>> {
    const found = await this.listOffsets(
      topic,
      bounds.map((b) => b.partition),
      timestamp,
    );
    return new Map(
      bounds.map(({ partition, end }) => {
        const offset = found.get(partition)?.offset ?? -1n;
        return [partition, offset < 0n ? end : offset];
      }),
    );
  }

  /** Ids of the oldest and newest stored entries (by publish time when there are several partitions). */
  private async firstAndLast(
    topic: string,
    bounds: readonly PartitionBounds[],
  ): Promise<{ firstId: string | null; lastId: string | null }> {
    const stored = bounds.filter((b) => b.end > b.start);
    if (stored.length === 0) {
      return { firstId: null, lastId: null };
    }
    if (stored.length === 1) {
      const [only] = stored;
      return { firstId: `${only!.partition}-${only!.start}`, lastId: `${only!.partition}-${only!.end - 1n}` };
    }
    const partitions = stored.map((b) => b.partition);
    // the first entry of each partition (timestamp 0: the first at or after the epoch) and its newest
    const [firsts, newest] = await Promise.all([
      this.listOffsets(topic, partitions, 0n),
      this.listOffsets(topic, partitions, -3n),
    ]);
    const by = (found: Map<number, { timestamp: bigint }>, pick: (a: bigint, b: bigint) => boolean): PartitionBounds =>
      stored.reduce((best, b) =>
        pick(found.get(b.partition)?.timestamp ?? 0n, found.get(best.partition)?.timestamp ?? 0n) ? b : best,
      );
    const first = by(firsts, (a, b) => a < b);
    const last = by(newest, (a, b) => a > b);
    return { firstId: `${first.partition}-${first.start}`, lastId: `${last.partition}-${last.end - 1n}` };
  }

  /** The channel's consumer groups (by their Kafka group ids, `<prefix><channel>/<group>`) and their offsets. */
  private async groupsOf(channel: string, topic: string): Promise<GroupOffsets[]> {
    const prefix = this.groupIdOf(channel, '');
    const ids = [...(await this.admin.listGroups()).keys()].filter((id) => id.startsWith(prefix)).sort();
    if (ids.length === 0) {
      return [];
    }
    const [described, offsets] = await Promise.all([
      this.admin.describeGroups({ groups: ids }),
      this.admin.listConsumerGroupOffsets({ groups: ids }),
    ]);
    return ids.map((id) => {
      const committed = new Map<number, { offset: bigint; state: ReturnType<typeof decodeDeliveryState> }>();
      const group = offsets.find((g) => g.groupId === id);
      for (const partition of group?.topics.find((t) => t.name === topic)?.partitions ?? []) {
        if (partition.committedOffset >= 0n) {
          committed.set(partition.partitionIndex, {
            offset: partition.committedOffset,
            state: decodeDeliveryState(partition.metadata),
          });
        }
      }
      return { name: id.slice(prefix.length), members: described.get(id)?.members.size ?? 0, committed };
    });
  }

  private topicOf(channel: string): string {
    return `${this.prefix}${channel}`;
  }

  private groupIdOf(channel: string, group: string): string {
    return `${this.prefix}${channel}/${group}`;
  }
}
