import { Consumer as KafkaClientConsumer, ListOffsetTimestamps, type Admin } from '@platformatic/kafka';
import { errorMessage } from '../dead-letter';
import { deliverBatch, type DeliveryBackend } from '../delivery-policy';
import type { Envelope } from '../envelope.schema';
import { baseClientOptions, kafkaErrorIs, watchClient, type KafkaSettings, type TopicLayout } from './client';
import type { DeliveryState } from './delivery-state';
import { decodeDeliveryState } from './delivery-state';
import { GroupCommitter, type PartitionCommit } from './group-commits';
import { kafkaId } from './id';
import { parseRecord, recordsOf, type KafkaRecordEntry } from './records';
import { backoffMs, sleep } from '../sleep';
import { untilAborted } from '../until-aborted';
import type { ResolvedConsumeOptions } from '../consume-options';
import type { BatchHandler, Consumer } from '../types';

/** What a consumer needs from the broker that created it. */
export interface KafkaConsumerContext {
  readonly settings: KafkaSettings;
  readonly admin: Admin;
  /** The channel's topic; `layout()` tells where its partitions are (the topic exists). */
  readonly topic: string;
  layout(forceUpdate?: boolean): Promise<TopicLayout>;
  /** Kafka's group id for this channel's group. */
  readonly groupId: string;
  /** Session timeout: how long a silent member keeps its partitions. */
  readonly sessionTimeoutMs: number;
  readonly deadLetterChannel: string;
  /** Stores a dead letter on the dead-letter channel; resolves once Kafka has it. */
  publishDeadLetter(envelope: Envelope): Promise<void>;
}

interface Retry {
  readonly record: KafkaRecordEntry;
  readonly deliveries: number;
  readonly dueAt: number;
}

interface Item {
  readonly record: KafkaRecordEntry;
  readonly deliveries: number;
}

interface Assignment {
  readonly generation: number;
  readonly partitions: ReadonlySet<number>;
}

/** What this member knows about one partition it owns. */
class PartitionState {
  /** Failed entries waiting for their next delivery. */
  readonly retries = new Map<bigint, Retry>();
  /** Fetched, not delivered yet. */
  buffer: KafkaRecordEntry[] = [];
  oldestPendingTs: number | undefined;
  lastDeliveredTs: number | undefined;

  constructor(
    readonly partition: number,
    /** Next offset to fetch. */
    public position: bigint,
    /** The group's committed offset, as last written. */
    public committed: bigint,
    /** Entries below were delivered at least once (by this member or an earlier owner). */
    public deliveredUpTo: bigint,
    /** Deliveries so far of entries at or above `committed`, where more than one. */
    readonly counts: Map<bigint, number>,
  ) {}

  /** The first entry not done with (delivered and acked or dead-lettered): the offset to commit. */
  commitPoint(): bigint {
    let point = this.buffer[0]?.offset ?? this.position;
    for (const offset of this.retries.keys()) {
      if (offset < point) {
        point = offset;
      }
    }
    return point;
  }

  /** Deliveries of an entry, this one included. */
  deliveriesOf(offset: bigint): number {
    return offset < this.deliveredUpTo ? (this.counts.get(offset) ?? 1) + 1 : 1;
  }

  noteDelivered(record: KafkaRecordEntry, deliveries: number): void {
    // nothing was pending before: this entry is now the oldest one delivered and not acked
    if (this.committed >= this.deliveredUpTo || this.oldestPendingTs === undefined) {
      this.oldestPendingTs = Math.min(this.oldestPendingTs ?? record.timestamp, record.timestamp);
    }
    if (deliveries > 1) {
      this.counts.set(record.offset, deliveries);
    }
    if (record.offset >= this.deliveredUpTo) {
      this.deliveredUpTo = record.offset + 1n;
    }
    this.lastDeliveredTs = Math.max(this.lastDeliveredTs ?? record.timestamp, record.timestamp);
  }

  state(committing: bigint): DeliveryState {
    const counts = new Map([...this.counts].filter(([offset]) => offset >= committing));
    const pending = committing < this.deliveredUpTo;
    const oldest = this.retries.get(committing)?.record.timestamp ?? this.oldestPendingTs;
    return {
      deliveredUpTo: this.deliveredUpTo > committing ? this.deliveredUpTo : committing,
      counts,
      ...(pending && oldest !== undefined ? { oldestPendingTs: oldest } : {}),
      ...(this.lastDeliveredTs !== undefined ? { lastDeliveredTs: this.lastDeliveredTs } : {}),
    };
  }

  committedTo(offset: bigint): void {
    this.committed = offset;
    for (const counted of this.counts.keys()) {
      if (counted < offset) {
        this.counts.delete(counted);
      }
    }
    if (offset >= this.deliveredUpTo) {
      this.oldestPendingTs = undefined;
    } else {
      this.oldestPendingTs = this.retries.get(offset)?.record.timestamp ?? this.oldestPendingTs;
    }
  }
}

/**
 * One member of a Kafka consumer group. The client library runs the group membership (join,
 * heartbeats, rebalances: a member that stops heartbeating loses its partitions to the others
 * after the session timeout); this class fetches, runs the handler, dead-letters and commits.
 *
 * An entry is acked by committing past it, so a failed entry holds its partition's commit point
 * (not its reading: later entries keep flowing) until it succeeds or is dead-lettered. It is retried
 * after `minIdleMs`, alone or with other due retries. Before each batch is handed over, the
 * partition's delivery state (see delivery-state.ts) is committed along with the unchanged
 * offset; a member that takes the partition over after a crash therefore counts deliveries across
 * crashes, and dead-letters an entry that crashed its consumers `maxDeliveries` times.
 */
export class KafkaStreamConsumer implements Consumer {
  readonly name: string;
  readonly stopped: Promise<void>;
  private readonly client: KafkaClientConsumer;
  private readonly committer: GroupCommitter;
  private readonly watcher: { markClosing(): void };
  private readonly abort = new AbortController();
  private readonly partitions = new Map<number, PartitionState>();
  /** The newest assignment the group gave this member (set when a join or rejoin completes). */
  private assignment: Assignment | undefined;
  /** The assignment the partition states follow. */
  private reconciled: Assignment | undefined;
  private membershipLost = false;
  private joined = false;
  private layout: TopicLayout | undefined;
  private readonly delivery: DeliveryBackend<Item>;

  constructor(
    private readonly ctx: KafkaConsumerContext,
    readonly channel: string,
    readonly group: string,
    private readonly handler: BatchHandler,
    private readonly options: ResolvedConsumeOptions,
  ) {
    this.name = options.consumer;
    this.delivery = {
      channel,
      deadLetterChannel: ctx.deadLetterChannel,
      group,
      consumer: this.name,
      logger: ctx.settings.logger,
      // deliveries are counted before each batch (the delivery state): only unacked ones count
      limits: { maxDeliveries: options.maxDeliveries, deliveriesMeanFailures: true },
      read: ({ record, deliveries }) => ({
        ...parseRecord(record, { topic: ctx.topic, channel }),
        id: kafkaId(record.partition, record.offset),
        deliveries,
      }),
      countFailure: (_item, delivery) => delivery.deliveries,
      retry: (item) => this.retryLater(item),
      // acked by the commit after the batch (the commit point stops at the first entry not done with)
      ack: () => Promise.resolve(),
      storeDeadLetter: (item, letter) => this.storeDeadLetter(item, letter),
    };
    const base = baseClientOptions(ctx.settings, `consumer-${group}`);
    this.client = new KafkaClientConsumer({
      ...base,
      groupId: ctx.groupId,
      sessionTimeout: ctx.sessionTimeoutMs,
      rebalanceTimeout: ctx.sessionTimeoutMs,
      // the coordinator holds a JoinGroup reply until the rebalance ends (up to the rebalance timeout):
      // the request must be allowed to wait that long
      requestTimeout: ctx.sessionTimeoutMs + 30_000,
      heartbeatInterval: Math.min(3000, Math.floor(ctx.sessionTimeoutMs / 3)),
      maxWaitTime: options.blockMs,
    });
    this.watcher = watchClient(this.client, `consumer:${group}`, ctx.settings);
    // the only error the client emits: it gave up rejoining the group after a rebalance
    this.client.on('error', () => {
      this.membershipLost = true;
    });
    // emitted once a join (or a rejoin after a rebalance) completed with this member's partitions;
    // the client's generationId changes earlier, at the join, before the partitions are known
    this.client.on('consumer:group:join', ({ generationId, assignments }) => {
      const mine = assignments?.find((a) => a.topic === ctx.topic)?.partitions ?? [];
      this.assignment = { generation: generationId ?? -1, partitions: new Set(mine) };
    });
    this.committer = new GroupCommitter(
      ctx.admin,
      ctx.groupId,
      ctx.topic,
      `${base.clientId}-commits`,
      ctx.settings.sasl,
    );
    this.stopped = this.run();
  }

  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) {
      this.abort.abort();
    }
    await this.stopped;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    try {
      while (!this.stopping) {
        try {
          await this.step();
          failures = 0;
        } catch (error) {
          if (this.stopping) {
            break;
          }
          if (++failures === 1) {
            this.ctx.settings.logger.warn('consumer read failed, retrying', {
              channel: this.channel,
              group: this.group,
              consumer: this.name,
              error: errorMessage(error),
            });
          }
          await sleep(backoffMs(failures), this.abort.signal);
        }
      }
    } finally {
      await this.finish();
    }
  }

  /** One turn: be a member with an up-to-date assignment; then retry what is due, or read on. */
  private async step(): Promise<void> {
    await this.ensureMembership();
    if (this.stopping) {
      return;
    }
    const due = this.dueRetries();
    if (due.length > 0) {
      await this.process(due);
      return;
    }
    const batch = await this.nextBatch();
    if (batch.length > 0) {
      await this.process(batch);
    }
  }

  private async ensureMembership(): Promise<void> {
    if (!this.joined || this.membershipLost) {
      this.membershipLost = false;
      this.layout ??= await this.ctx.layout();
      this.client.topics.track(this.ctx.topic);
      await this.client.joinGroup({});
      this.joined = true;
    }
    if (this.assignment && this.assignment !== this.reconciled) {
      await this.reconcile(this.assignment);
    }
  }

  /** Takes a new assignment: drops the partitions that went away, loads the new ones. */
  private async reconcile(assignment: Assignment): Promise<void> {
    // a skipped generation may have given a partition to someone else in between: start over
    const continuous = this.reconciled !== undefined && assignment.generation === this.reconciled.generation + 1;
    for (const partition of this.partitions.keys()) {
      if (!assignment.partitions.has(partition) || !continuous) {
        this.partitions.delete(partition);
      }
    }
    const added = [...assignment.partitions].filter((partition) => !this.partitions.has(partition));
    if (added.length > 0) {
      await this.load(added, assignment);
    }
    this.reconciled = assignment;
    this.ctx.settings.logger.info('kafka partitions assigned', {
      channel: this.channel,
      group: this.group,
      consumer: this.name,
      partitions: [...assignment.partitions].sort((a, b) => a - b),
    });
  }

  /** Reads the group's committed offsets and delivery state; commits a start for a partition that has none. */
  private async load(partitions: number[], assignment: Assignment): Promise<void> {
    try {
      await this.loadPartitions(partitions, assignment);
    } catch (error) {
      // all or nothing: the next turn loads them again (and commits the start of a new group)
      for (const partition of partitions) {
        this.partitions.delete(partition);
      }
      throw error;
    }
  }

  private async loadPartitions(partitions: number[], assignment: Assignment): Promise<void> {
    const [committed, earliest, latest] = await Promise.all([
      this.ctx.admin.listConsumerGroupOffsets({
        groups: [{ groupId: this.ctx.groupId, topics: [{ name: this.ctx.topic, partitionIndexes: partitions }] }],
      }),
      this.listOffsets(partitions, ListOffsetTimestamps.EARLIEST),
      this.listOffsets(partitions, ListOffsetTimestamps.LATEST),
    ]);
    const byPartition = new Map(
      (committed[0]?.topics.find((t) => t.name === this.ctx.topic)?.partitions ?? []).map((p) => [p.partitionIndex, p]),
    );
    const starts: PartitionCommit[] = [];
    for (const partition of partitions) {
      const start = earliest.get(partition) ?? 0n;
      const found = byPartition.get(partition);
      if (found && found.committedOffset >= 0n) {
        const state = decodeDeliveryState(found.metadata);
        let position = found.committedOffset;
        if (position < start) {
          this.ctx.settings.logger.warn('entries were trimmed before the group read them', {
            channel: this.channel,
            group: this.group,
            partition,
            lost: Number(start - position),
          });
          position = start;
        }
        const delivered = state && state.deliveredUpTo > position ? state.deliveredUpTo : position;
        const partitionState = new PartitionState(
          partition,
          position,
          found.committedOffset,
          delivered,
          new Map(state?.counts),
        );
        partitionState.oldestPendingTs = state?.oldestPendingTs;
        partitionState.lastDeliveredTs = state?.lastDeliveredTs;
        this.partitions.set(partition, partitionState);
      } else {
        // a new group: its position is fixed now, like a Redis group created at "0" or "$"
        const position = this.options.startId === '$' ? (latest.get(partition) ?? 0n) : start;
        const partitionState = new PartitionState(partition, position, position, position, new Map());
        this.partitions.set(partition, partitionState);
        starts.push({ partition, offset: position, state: partitionState.state(position) });
      }
    }
    await this.commitNow(starts, assignment);
  }

  private async listOffsets(partitions: number[], timestamp: bigint): Promise<Map<number, bigint>> {
    const [topic] = await this.ctx.admin.listOffsets({
      topics: [
        { name: this.ctx.topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
      ],
    });
    return new Map((topic?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
  }

  private dueRetries(): Item[] {
    const now = performance.now();
    const due: Item[] = [];
    for (const state of this.partitions.values()) {
      for (const retry of [...state.retries.values()].sort((a, b) => (a.record.offset < b.record.offset ? -1 : 1))) {
        if (retry.dueAt <= now && due.length < this.options.batchSize) {
          state.retries.delete(retry.record.offset);
          due.push({ record: retry.record, deliveries: retry.deliveries + 1 });
        }
      }
    }
    return due;
  }

  /** Milliseconds until the next retry is due (Infinity when none waits). */
  private untilNextRetry(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const state of this.partitions.values()) {
      for (const retry of state.retries.values()) {
        next = Math.min(next, retry.dueAt);
      }
    }
    return Math.max(0, next - performance.now());
  }

  /**
   * The next entries to deliver, fetched when the buffers are empty. With a batch's worth of
   * failed entries waiting, it reads nothing new until they are due (memory stays bounded).
   */
  private async nextBatch(): Promise<Item[]> {
    const waitMs = Math.min(this.options.blockMs, this.untilNextRetry());
    let waiting = 0;
    for (const state of this.partitions.values()) {
      waiting += state.retries.size;
    }
    if (waiting >= this.options.batchSize || this.partitions.size === 0) {
      await sleep(Math.max(waitMs, 10), this.abort.signal);
      return [];
    }
    let batch = this.takeBuffered();
    if (batch.length === 0) {
      await this.fetch(waitMs);
      batch = this.takeBuffered();
    }
    return batch;
  }

  /**
   * The next batch from the buffers: at most `batchSize` entries and `maxBatchBytes` bytes (at least
   * one entry). A fetch returns whole record batches, however large the producer made them: what
   * does not fit waits in the buffer for the next batch.
   */
  private takeBuffered(): Item[] {
    const { batchSize, maxBatchBytes } = this.options;
    const batch: Item[] = [];
    let bytes = 0;
    for (const state of [...this.partitions.values()].sort((a, b) => a.partition - b.partition)) {
      while (state.buffer.length > 0 && batch.length < batchSize) {
        const size = state.buffer[0]!.value?.length ?? 0;
        if (batch.length > 0 && bytes + size > maxBatchBytes) {
          return batch;
        }
        const record = state.buffer.shift()!;
        bytes += size;
        batch.push({ record, deliveries: state.deliveriesOf(record.offset) });
      }
    }
    return batch;
  }

  /** One fetch from each partition leader, waiting up to `waitMs` for new entries; stop() ends the wait. */
  private async fetch(waitMs: number): Promise<void> {
    const layout = (this.layout ??= await this.ctx.layout());
    const byLeader = new Map<number, PartitionState[]>();
    for (const state of this.partitions.values()) {
      const leader = layout.leaders[state.partition] ?? -1;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), state]);
    }
    await Promise.all(
      [...byLeader].map(async ([leader, states]) => {
        const positions = new Map(states.map((state) => [state.partition, state.position]));
        const fetching = this.client.fetch({
          node: leader,
          maxWaitTime: waitMs,
          minBytes: 1,
          // no more than a batch may hold (Kafka still returns a first record batch larger than that whole)
          maxBytes: Math.min(8 * 1024 * 1024, this.options.maxBatchBytes),
          topics: [
            {
              topicId: layout.id,
              partitions: states.map((state) => ({
                partition: state.partition,
                fetchOffset: state.position,
                partitionMaxBytes: Math.min(1024 * 1024, this.options.maxBatchBytes),
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
        });
        let response;
        try {
          response = await untilAborted(fetching, this.abort.signal);
        } catch (error) {
          await this.fetchFailed(error);
          throw error;
        }
        if (!response) {
          return; // stopping: what it fetched is read again by whoever comes next
        }
        for (const [partition, { records, next }] of recordsOf(response, positions)) {
          const state = this.partitions.get(partition);
          if (state && state.position === positions.get(partition)) {
            state.buffer.push(...records);
            state.position = next;
          }
        }
      }),
    );
  }

  /** Entries trimmed past the position: read on from the first kept one. Leaders moved: look again. */
  private async fetchFailed(error: unknown): Promise<void> {
    if (kafkaErrorIs(error, 'OFFSET_OUT_OF_RANGE')) {
      const owned = [...this.partitions.keys()];
      const earliest = await this.listOffsets(owned, ListOffsetTimestamps.EARLIEST);
      for (const state of this.partitions.values()) {
        const start = earliest.get(state.partition) ?? state.position;
        if (state.position < start) {
          this.ctx.settings.logger.warn('entries were trimmed before the group read them', {
            channel: this.channel,
            group: this.group,
            partition: state.partition,
            lost: Number(start - state.position),
          });
          state.position = start;
          state.buffer = [];
        }
      }
    } else {
      this.layout = await this.ctx.layout(true);
    }
  }

  private async process(items: Item[]): Promise<void> {
    const touched = new Set<PartitionState>();
    for (const { record, deliveries } of items) {
      const state = this.partitions.get(record.partition);
      if (state) {
        state.noteDelivered(record, deliveries);
        touched.add(state);
      }
    }
    // say "delivered" before the handler runs: a crash from here on counts as a delivery
    await this.commit(touched, false);
    await deliverBatch(items, this.handler, this.delivery);
    await this.commit(touched, true);
  }

  private retryLater(item: Item, afterMs = this.options.minIdleMs): void {
    this.partitions.get(item.record.partition)?.retries.set(item.record.offset, {
      record: item.record,
      deliveries: item.deliveries,
      dueAt: performance.now() + afterMs,
    });
  }

  /** Stores a dead letter; the entry is acked by the commit after its batch. */
  private async storeDeadLetter(item: Item, letter: Envelope): Promise<boolean> {
    try {
      await this.ctx.publishDeadLetter(letter);
      return true;
    } catch (failure) {
      // not stored: the entry stays un-acked and comes back (the dead letter's id makes a repeat harmless)
      this.ctx.settings.logger.error('dead letter not stored; entry will be retried', {
        channel: this.channel,
        group: this.group,
        id: kafkaId(item.record.partition, item.record.offset),
        error: errorMessage(failure),
      });
      this.retryLater({ record: item.record, deliveries: item.deliveries - 1 }, 1000);
      return false;
    }
  }

  /**
   * Commits, for partitions this member still owns: the delivery state with the unchanged offset
   * (`advance` false, before a batch), or the new commit point. A failed commit only means entries
   * may be delivered again; it is logged, not thrown.
   */
  private async commit(states: Iterable<PartitionState>, advance: boolean): Promise<void> {
    const assignment = this.reconciled;
    if (!assignment || assignment !== this.assignment) {
      return; // the partitions are moving: whoever owns them next reads from the last commit
    }
    const commits: PartitionCommit[] = [];
    for (const state of states) {
      if (assignment.partitions.has(state.partition) && this.partitions.get(state.partition) === state) {
        const offset = advance ? state.commitPoint() : state.committed;
        commits.push({ partition: state.partition, offset, state: state.state(offset) });
      }
    }
    try {
      await this.commitNow(commits, assignment);
    } catch (error) {
      this.ctx.settings.logger.warn('commit failed; entries may be delivered again', {
        channel: this.channel,
        group: this.group,
        error: errorMessage(error),
      });
    }
  }

  private async commitNow(commits: PartitionCommit[], assignment: Assignment): Promise<void> {
    if (commits.length === 0) {
      return;
    }
    // under the generation that gave the partitions: after a rebalance the coordinator refuses it
    await this.committer.commit(commits, { generationId: assignment.generation, memberId: this.client.memberId ?? '' });
    for (const { partition, offset } of commits) {
      this.partitions.get(partition)?.committedTo(offset);
    }
  }

  /** Commits where each owned partition stands, leaves the group (its partitions go to the others at once), closes. */
  private async finish(): Promise<void> {
    try {
      if (this.joined) {
        await this.commit(this.partitions.values(), true);
      }
    } finally {
      this.watcher.markClosing();
      await this.client.close().catch((error: unknown) => {
        this.ctx.settings.logger.warn('kafka consumer did not leave its group cleanly', {
          channel: this.channel,
          group: this.group,
          error: errorMessage(error),
        });
      });
      await this.committer.close();
    }
  }
}
