import type { Envelope, MessageInput } from './envelope.schema';

/** One entry read from a channel. */
export interface StreamEntry {
  /** The broker's id for the entry (a Redis stream id, `<ms>-<seq>`); the cursor for tail/search. */
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
  /** Entries per XREADGROUP. Default 100. */
  batchSize?: number;
  /** How long one XREADGROUP blocks waiting for entries. Default 2000 ms. */
  blockMs?: number;
  /**
   * An entry pending this long (its consumer died, or its handler failed) is reclaimed by any
   * consumer of the group. Must exceed the longest a handler takes, or a slow batch is handed to a
   * second consumer while the first still works on it. Default 30000 ms.
   */
  minIdleMs?: number;
  /** How often to look for reclaimable entries. Default minIdleMs / 2. */
  reclaimIntervalMs?: number;
  /** Deliveries after which a failing entry goes to the dead-letter channel. Default 5. */
  maxDeliveries?: number;
  /** Where a new group starts: `0` (the whole stream) or `$` (new entries only). Default `0`. */
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
  /** Start after this id; `$` (default) means "only entries added from now on". */
  fromId?: string;
  /** Block per read. Default 5000 ms. */
  blockMs?: number;
  /** Entries per read. Default 500. */
  count?: number;
}

/** An async iterator over new entries; `close()` ends it from outside, even mid-read. */
export interface Tail extends AsyncIterableIterator<StreamEntry, undefined> {
  close(): Promise<void>;
}

export interface GroupStats {
  readonly name: string;
  readonly consumers: number;
  /** Entries delivered to the group and not yet acked. */
  readonly pending: number;
  readonly lastDeliveredId: string;
  /** Entries in the stream the group has not read yet (null when Redis cannot tell). */
  readonly lag: number | null;
  readonly oldestPendingId: string | null;
  /** Age of the oldest pending entry, from its id's timestamp. */
  readonly oldestPendingAgeMs: number | null;
}

export interface ChannelStats {
  readonly channel: string;
  readonly length: number;
  readonly firstId: string | null;
  readonly lastId: string | null;
  readonly groups: readonly GroupStats[];
}

export interface TrimOptions {
  /** Keep at most this many entries. */
  maxLen?: number;
  /** Remove entries older than this. */
  maxAgeMs?: number;
}

export interface TrimResult {
  readonly removed: number;
  /** True when a consumer group's un-acked entries stopped the trim short of its target. */
  readonly heldBackByGroup: boolean;
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
  /** Name of the channel that receives `channel`'s dead letters. */
  deadLetterChannel(channel: string): string;
  /** Number of messages accepted but not yet confirmed stored. */
  readonly buffered: number;
  /** Flushes what is buffered (bounded by the publish timeout), stops consumers and tails, disconnects. Idempotent. */
  close(): Promise<void>;
}
