import type { Envelope, MessageInput } from './envelope.schema';

/** One entry read from a channel. */
export interface StreamEntry {
  /**
   * The broker's id for the entry; the cursor for tail/search. Redis: the stream id, `<ms>-<seq>`.
   * Kafka: `<partition>-<offset>` (same shape, but no timestamp in it).
   */
  readonly id: string;
  readonly channel: string;
  readonly envelope: Envelope;
}

/** An entry handed to a consumer-group handler. */
export interface Delivery extends StreamEntry {
  /** How many times the entry has been delivered to the group, this delivery included (1 = first). */
  readonly deliveries: number;
}

/** Per-entry outcome a batch handler may report instead of throwing for the whole batch. */
export interface HandlerFailure {
  readonly id: string;
  readonly error: unknown;
  /** The entry can never succeed (bad data): dead-letter it now instead of retrying. */
  readonly deadLetter?: boolean;
}

export interface HandlerResult {
  readonly failed?: readonly HandlerFailure[];
}

/**
 * Processes a batch; returning acks every entry not listed in `failed`. Throwing fails the batch:
 * the broker then retries each entry alone, so one poison entry cannot hold back the others.
 */
export type BatchHandler = (batch: readonly Delivery[]) => Promise<HandlerResult | void> | HandlerResult | void;

export interface ConsumeOptions {
  /** Consumer name inside the group; unique per process. Default: `<host>-<pid>-<random>`. */
  consumer?: string;
  /** Entries per batch (XREADGROUP count; Kafka: at most this many per handler call). Default 100. */
  batchSize?: number;
  /**
   * Bytes of entries per batch, at most. Redis reads a batch in parts of at most this many bytes
   * over the largest entry the broker accepts (its `maxMessageBytes`), so a batch of the largest
   * entries still fits: a consumer's memory is bounded whatever the entries' size. Kafka fetches at
   * most this many bytes (8 MiB at most) and hands over what it fetched in batches of at most this
   * many bytes (at least one entry). Default 8 MiB.
   */
  maxBatchBytes?: number;
  /** How long one read blocks waiting for entries (XREADGROUP BLOCK; Kafka: fetch max wait). Default 2000 ms. */
  blockMs?: number;
  /**
   * An entry pending this long (its consumer died, or its handler failed) is reclaimed by any
   * consumer of the group. Must exceed the longest a handler takes, or a slow batch is handed to a
   * second consumer while the first still works on it. Default 30000 ms.
   * Kafka: the group's session timeout (at least the cluster's minimum, 6 s by default): a member
   * silent this long loses its partitions to the others; and the pause before a failed entry is
   * delivered again.
   */
  minIdleMs?: number;
  /** How often to look for reclaimable entries. Default minIdleMs / 2. (Redis only.) */
  reclaimIntervalMs?: number;
  /**
   * Handler failures after which an entry goes to the dead-letter channel. Default 5. Only a
   * handler that threw or reported the entry failed counts: a takeover of an entry whose consumer
   * died or was replaced before its handler finished does not (Redis: `Delivery.deliveries` still
   * counts those).
   */
  maxDeliveries?: number;
  /**
   * Where a new group starts: `0` (the whole stream) or `$` (new entries only). Default `0`.
   * Kafka: the group's first member commits that position at once, so it holds for later members.
   */
  startId?: string;
}

export interface Consumer {
  readonly channel: string;
  readonly group: string;
  readonly name: string;
  /** Stops reading, lets the batch in flight finish and be acked, then resolves. Idempotent. */
  stop(): Promise<void>;
  /** Resolves once the consumer has stopped. */
  readonly stopped: Promise<void>;
}

export interface TailOptions {
  /** Start after this id; `$` (default) means "only entries added from now on"; `0` everything stored. */
  fromId?: string;
  /** Block per read. Default 5000 ms. */
  blockMs?: number;
  /** Entries per read. Default 500. (Redis only: a Kafka fetch is bounded by bytes.) */
  count?: number;
}

/** An async iterator over new entries; `close()` ends it from outside, even mid-read. */
export interface Tail extends AsyncIterableIterator<StreamEntry, undefined> {
  close(): Promise<void>;
}

/**
 * One consumer group of a channel. On Kafka, where the server keeps only each partition's committed
 * offset, the figures come from that offset and the delivery state the broker commits with it, and
 * are summed over the partitions.
 */
export interface GroupStats {
  readonly name: string;
  /** Redis: consumers the group knows (a stopped one stays until deleted). Kafka: live members. */
  readonly consumers: number;
  /** Entries delivered to the group and not yet acked (Kafka: from the committed offset up to the last delivered). */
  readonly pending: number;
  /** The newest entry delivered to the group (Kafka: `''` before the first delivery). */
  readonly lastDeliveredId: string;
  /** Entries in the stream the group has not read yet (null when Redis cannot tell). */
  readonly lag: number | null;
  /** Kafka: the entry at the commit point of the partition whose pending entry is oldest. */
  readonly oldestPendingId: string | null;
  /** Age of the oldest pending entry, from its id's timestamp (Kafka: its publish timestamp). */
  readonly oldestPendingAgeMs: number | null;
  /** Kafka only: the figures of each partition (a Redis stream has none). */
  readonly partitions?: readonly PartitionStats[];
}

/** One partition of a Kafka topic, as one consumer group sees it. */
export interface PartitionStats {
  readonly partition: number;
  /** The group's committed offset: the next entry it has not acked (the start offset before any commit). */
  readonly committedOffset: number;
  /** The offset the next published entry will get. */
  readonly endOffset: number;
  readonly pending: number;
  readonly lag: number;
}

export interface ChannelStats {
  readonly channel: string;
  /** Entries stored (Kafka: end offset minus start offset, summed over partitions). */
  readonly length: number;
  /** The oldest stored entry (Kafka, several partitions: the one published first). */
  readonly firstId: string | null;
  /** The newest stored entry (Kafka, several partitions: the one published last). */
  readonly lastId: string | null;
  readonly groups: readonly GroupStats[];
}

export interface ReplayOptions {
  /** How far back from the group's position, by publish time. */
  windowMs: number;
  /** Entries per page. Default 500, at most 10 000. */
  count?: number;
}

export interface TrimOptions {
  /** Keep at most this many entries (Kafka: shared between partitions in proportion to what each holds). */
  maxLen?: number;
  /** Remove entries older than this. */
  maxAgeMs?: number;
}

export interface TrimResult {
  readonly removed: number;
  /** True when a consumer group's un-acked entries stopped the trim short of its target. */
  readonly heldBackByGroup: boolean;
  /**
   * The groups whose un-acked (or unread) entries lie below the target, by name: a retired or stuck
   * group here keeps the channel from ever being trimmed. Empty when nothing held the trim.
   */
  readonly heldBy: readonly string[];
}

export interface RemoveGroupOptions {
  /**
   * Redis: a group with a consumer that read within this window is in use (default 60 000 ms; a
   * running consumer reads at least every `blockMs`). Kafka knows its live members and ignores it.
   */
  activeWithinMs?: number;
}

/** What `removeGroup` did: `in_use` while a consumer of the group is alive, and nothing is removed. */
export type RemoveGroupResult = 'removed' | 'not_found' | 'in_use';

export interface RangeOptions {
  /** The first id to return (inclusive). Default: the oldest stored entry. */
  start?: string;
  /** The last id to return (inclusive). Default: the newest stored entry. */
  end?: string;
  /** At most this many entries. Default 100, at most 10 000. */
  count?: number;
  /** Newest first (the `count` newest of the range). Default false: oldest first. */
  reverse?: boolean;
}

/** The broker contract, the same for every backend. */
export interface Broker {
  /** Resolves once connected (rejects after `timeoutMs`, if given). */
  ready(timeoutMs?: number): Promise<void>;
  /** Validates, stores, and resolves with the broker id(s); rejects when it could not store. */
  publish(channel: string, message: MessageInput): Promise<string>;
  publish(channel: string, messages: readonly MessageInput[]): Promise<string[]>;
  consume(channel: string, group: string, handler: BatchHandler, options?: ConsumeOptions): Consumer;
  tail(channel: string, options?: TailOptions): Tail;
  stats(channel: string): Promise<ChannelStats>;
  /** Trims old entries, never one that a consumer group has not acked. */
  trim(channel: string, options: TrimOptions): Promise<TrimResult>;
  /**
   * Deletes a consumer group with its positions: the way to release a retired service's group,
   * which holds trimming back for good. Refused (`in_use`) while the group has a live consumer; a
   * consumer started later under the same name begins again from its `startId`.
   */
  removeGroup(channel: string, group: string, options?: RemoveGroupOptions): Promise<RemoveGroupResult>;
  /**
   * Stored entries between two ids, both inclusive (Redis: XRANGE / XREVRANGE). For reading a few
   * entries back (dead letters, one entry by id), not for following a channel: use `tail`.
   * Entries that are not valid envelopes are skipped. Kafka: ids name a partition and an offset;
   * `start` and `end` bound the partition they name, and entries of several partitions are ordered
   * by publish time.
   */
  range(channel: string, options?: RangeOptions): Promise<StreamEntry[]>;
  /**
   * Deletes single entries by id (Redis: XDEL); resolves with how many were deleted. Kafka cannot
   * delete one record from a topic: it resolves with 0 and deletes nothing.
   */
  remove(channel: string, ids: readonly string[]): Promise<number>;
  /**
   * The entries published in the last `windowMs` before a group's position, oldest first, in pages:
   * for writing again what a store lost after confirming it (OrientDB confirms commits before its
   * write-ahead log is on disk). The position is the group's last delivered entry (Kafka, per
   * partition: its last committed one); time is the publish time (Redis: the id's, Kafka: the
   * record's timestamp), so no caller reads time out of an id. Nothing for an unknown group.
   */
  replay(channel: string, group: string, options: ReplayOptions): AsyncIterable<StreamEntry[]>;
  /** Name of the channel that receives `channel`'s dead letters. */
  deadLetterChannel(channel: string): string;
  /** Number of messages accepted but not yet confirmed stored. */
  readonly buffered: number;
  /** Flushes what is buffered (bounded by the publish timeout), stops consumers and tails, disconnects. Idempotent. */
  close(): Promise<void>;
}
