import { murmur2, type Producer, type ProduceResult } from '@platformatic/kafka';
import { BrokerBackpressureError, BrokerClosedError, BrokerUnavailableError } from './errors';
import { kafkaErrorIs, type TopicRegistry } from './kafka-client';
import { kafkaId } from './kafka-id';
import type { BrokerLogger } from './logger';

export interface KafkaPublisherOptions {
  /** Messages accepted but not yet confirmed (queued + in flight). */
  maxBuffered: number;
  /** How long a message may wait for Kafka before its publish is rejected. */
  timeoutMs: number;
  /** When the buffer is full: reject at once, or wait for room (up to `timeoutMs`). */
  onFull: 'reject' | 'wait';
  /** Messages per produce request. */
  batchSize: number;
  /** Bytes per produce request, kept under the broker's 1 MiB record-batch limit (`message.max.bytes`). */
  maxBatchBytes: number;
  /** Produce requests in flight at once (Kafka keeps an idempotent producer's order for up to 5). */
  maxInFlight: number;
}

/** One message ready for Kafka: the serialized envelope, keyed by its source service. */
export interface OutgoingMessage {
  readonly topic: string;
  readonly key: Buffer;
  readonly value: Buffer;
}

interface Pending extends OutgoingMessage {
  readonly seq: number;
  readonly deadline: number;
  /** Resolved or rejected: nothing more may happen to its caller's promise. */
  done: boolean;
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
}

interface Waiter {
  readonly count: number;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Attempt {
  readonly batch: Pending[];
  /** The producer that sends it; a failure drops that producer, not a newer one. */
  producer?: Producer;
  /** Messages of the batch whose callers still wait (not rejected by their deadline). */
  live: number;
  expiryTimer?: NodeJS.Timeout;
}

// bytes a record adds beyond key and value at most (length, attributes, timestamp and offset deltas,
// key and value lengths, header count: varints), for the request size cap
const RECORD_OVERHEAD = 40;
// a batch Kafka refused as too large is split down to this at the smallest
const MIN_BATCH_BYTES = 64 * 1024;

// errors that resending cannot fix: the publish is rejected with them
const PERMANENT = [
  'INVALID_RECORD',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
  'UNSUPPORTED_VERSION',
];

function isTooLarge(error: unknown): boolean {
  return kafkaErrorIs(error, 'MESSAGE_TOO_LARGE') || kafkaErrorIs(error, 'RECORD_LIST_TOO_LARGE');
}

function isPermanent(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'PLT_KFK_USER' || PERMANENT.some((id) => kafkaErrorIs(error, id));
}

/** A queued message (built field by field: an object spread per message costs, publishing is hot). */
function pending(
  message: OutgoingMessage,
  seq: number,
  deadline: number,
  resolve: (id: string) => void,
  reject: (error: Error) => void,
): Pending {
  return { topic: message.topic, key: message.key, value: message.value, seq, deadline, done: false, resolve, reject };
}

/** Rejects a message's publish unless it was settled already. */
function fail(item: Pending, error: Error): void {
  if (!item.done) {
    item.done = true;
    item.reject(error);
  }
}

/**
 * Closes a client without waiting for what it still sends or resends (that request is abandoned);
 * never rejects.
 */
export function closeForcibly(client: Pick<Producer, 'close'>): Promise<void> {
  return new Promise<void>((resolve) => client.close(true, () => resolve()));
}

/** Java's default partitioner: the same key lands on the same partition as with any Kafka client. */
export function partitionFor(key: Buffer, partitions: number): number {
  return partitions <= 1 ? 0 : (murmur2(key) & 0x7fffffff) % partitions;
}

/**
 * A bounded queue in front of one idempotent producer (acks=all). Messages published in the same
 * tick go out together; up to `maxInFlight` produce requests are in flight at once (the 1.x client
 * numbered an idempotent producer's batches wrongly with two requests in flight to a partition, so
 * this publisher used to send one at a time: test/kafka-client-inflight.test.ts checks the client's
 * 2.x keeps every message of concurrent requests). While Kafka is down the client
 * resends the request (same producer id and sequence, so Kafka stores it once) for as long as it
 * takes; a message whose deadline passes meanwhile is rejected with BrokerUnavailableError ("not
 * stored, or not confirmed": the request may still land later), queued ones as well. A request that
 * fails outright is sent again on a fresh producer, so a sequence number whose fate is unknown is
 * never reused for other messages; a message whose first send was in fact stored may then be stored
 * twice, never zero times (`envelope.id` is the idempotency key).
 */
export class KafkaPublisher {
  private queue: Pending[] = [];
  private head = 0;
  private reserved = 0;
  private seq = 0;
  private scheduled = false;
  private closed = false;
  private readonly attempts = new Set<Attempt>();
  private producer: Producer | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly holds = new Set<Promise<unknown>>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failedSends = 0;
  private idleResolvers: Array<() => void> = [];
  /** Request size cap; halved when Kafka refuses a request as too large (a topic with a lower limit). */
  private maxBatchBytes: number;
  private expiredSinceLog = 0;
  private lastExpiryLogAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: {
      readonly createProducer: () => Producer;
      readonly topics: TopicRegistry;
      readonly logger: BrokerLogger;
    },
    private readonly options: KafkaPublisherOptions,
  ) {
    this.maxBatchBytes = options.maxBatchBytes;
  }

  /** Queued plus in flight. */
  get buffered(): number {
    let live = 0;
    for (const attempt of this.attempts) {
      live += attempt.live;
    }
    return this.queue.length - this.head + live + this.reserved;
  }

  /** Queues messages; resolves with their ids once Kafka stored every one of them. */
  publish(messages: readonly OutgoingMessage[]): Promise<string[]> {
    const refused = this.refuse(messages.length);
    if (refused) {
      return refused.then(() => this.publish(messages));
    }
    if (messages.length === 0) {
      return Promise.resolve([]);
    }
    return new Promise<string[]>((resolve, reject) => {
      const ids = new Array<string>(messages.length);
      let left = messages.length;
      let failed = false;
      const fail = (error: Error): void => {
        if (!failed) {
          failed = true;
          reject(error);
        }
      };
      const deadline = performance.now() + this.options.timeoutMs;
      messages.forEach((message, i) => {
        const done = (id: string): void => {
          ids[i] = id;
          if (--left === 0 && !failed) {
            resolve(ids);
          }
        };
        this.queue.push(pending(message, this.seq++, deadline, done, fail));
      });
      this.schedule();
    });
  }

  /**
   * One message: no array, no extra promise. `internal` (dead letters of a stopping consumer) is
   * accepted after `stopIntake()`, and never refused for back-pressure.
   */
  publishOne(message: OutgoingMessage, internal = false): Promise<string> {
    const refused = internal ? undefined : this.refuse(1);
    if (refused) {
      return refused.then(() => this.publishOne(message));
    }
    return new Promise<string>((resolve, reject) => {
      const deadline = performance.now() + this.options.timeoutMs;
      this.queue.push(pending(message, this.seq++, deadline, resolve, reject));
      this.schedule();
    });
  }

  /** Resolves when nothing is queued or in flight, or after `timeoutMs`; returns whether it got there. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.buffered === 0) {
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      new Promise<boolean>((resolve) => this.idleResolvers.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return drained;
  }

  /**
   * Sends nothing new until `until` settles: a tail started from "$" asks Kafka where the topic ends,
   * and a publish made after tail() returned must not be stored before that answer.
   */
  holdUntil(until: Promise<unknown>): void {
    this.holds.add(until);
    const release = (): void => {
      this.holds.delete(until);
      this.pump();
    };
    until.then(release, release);
  }

  /** Refuses new messages; what is buffered still gets its chance until its deadline. */
  stopIntake(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new BrokerClosedError());
    }
  }

  /** Rejects everything queued and in flight, and drops the producer (the end of `close()`). */
  async abort(error: Error): Promise<void> {
    const attempts = [...this.attempts];
    this.attempts.clear();
    for (const attempt of attempts) {
      clearTimeout(attempt.expiryTimer);
      attempt.live = 0;
      attempt.batch.forEach((item) => fail(item, error));
    }
    const queued = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    queued.forEach((item) => fail(item, error));
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(error);
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopSweep();
    this.settleIdle();
    await this.dropProducer();
  }

  private refuse(count: number): Promise<void> | undefined {
    if (this.closed) {
      return Promise.reject(new BrokerClosedError());
    }
    if (count > this.options.maxBuffered) {
      return Promise.reject(
        new BrokerBackpressureError(
          `a batch of ${count} messages can never fit the publish buffer of ${this.options.maxBuffered}; split it`,
        ),
      );
    }
    if (this.buffered + count <= this.options.maxBuffered) {
      return undefined;
    }
    if (this.options.onFull === 'reject') {
      return Promise.reject(
        new BrokerBackpressureError(
          `publish buffer full (${this.buffered}/${this.options.maxBuffered} messages waiting for Kafka)`,
        ),
      );
    }
    return this.waitForRoom(count).then(() => {
      this.reserved -= count;
    });
  }

  private schedule(): void {
    if (this.scheduled) {
      return;
    }
    this.scheduled = true;
    // setImmediate, not a microtask: every publish() of the current tick joins the same request
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (
      this.attempts.size < this.options.maxInFlight &&
      !this.retryTimer &&
      this.holds.size === 0 &&
      this.head < this.queue.length
    ) {
      let end = this.head;
      let bytes = 0;
      while (end < this.queue.length && end - this.head < this.options.batchSize) {
        const item = this.queue[end]!;
        const size = item.key.length + item.value.length + RECORD_OVERHEAD;
        if (end > this.head && bytes + size > this.maxBatchBytes) {
          break;
        }
        bytes += size;
        end++;
      }
      const batch = this.queue.slice(this.head, end);
      this.head = end;
      this.compact();
      void this.send(batch);
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const attempt: Attempt = { batch, live: batch.length };
    this.attempts.add(attempt);
    this.startSweep();
    this.armExpiry(attempt);
    try {
      const partitions = await this.partitionsOf(batch);
      this.producer ??= this.deps.createProducer();
      attempt.producer = this.producer;
      const result = await attempt.producer.send({
        messages: batch.map((item, i) => ({
          topic: item.topic,
          partition: partitions[i],
          key: item.key,
          value: item.value,
        })),
      });
      if (this.attempts.has(attempt)) {
        this.settle(batch, partitions, result);
        this.failedSends = 0;
      }
    } catch (error) {
      if (this.attempts.has(attempt)) {
        this.failed(
          attempt,
          batch.filter((item) => !item.done),
          error,
        );
      }
    } finally {
      clearTimeout(attempt.expiryTimer);
      if (this.attempts.delete(attempt)) {
        this.afterSend();
      }
    }
  }

  /** Rejects the in-flight messages whose deadline passed; the request itself goes on. */
  private armExpiry(attempt: Attempt): void {
    let next = Number.POSITIVE_INFINITY;
    for (const item of attempt.batch) {
      if (!item.done) {
        next = Math.min(next, item.deadline);
      }
    }
    if (next === Number.POSITIVE_INFINITY) {
      return;
    }
    attempt.expiryTimer = setTimeout(
      () => {
        const now = performance.now();
        const expired = attempt.batch.filter((item) => !item.done && item.deadline <= now);
        attempt.live -= expired.length;
        this.expire(expired, now);
        this.releaseWaiters();
        this.settleIdle();
        this.armExpiry(attempt);
      },
      Math.max(0, next - performance.now()),
    );
  }

  private async partitionsOf(batch: readonly Pending[]): Promise<number[]> {
    const counts = new Map<string, number>();
    for (const item of batch) {
      if (!counts.has(item.topic)) {
        counts.set(item.topic, await this.deps.topics.ensure(item.topic));
      }
    }
    return batch.map((item) => partitionFor(item.key, counts.get(item.topic)!));
  }

  /** Each message's id: its partition's base offset in the reply plus its place in that partition. */
  private settle(batch: readonly Pending[], partitions: readonly number[], result: ProduceResult): void {
    const next = new Map<string, bigint[]>();
    for (const { topic, partition, offset } of result.offsets ?? []) {
      let offsets = next.get(topic);
      if (!offsets) {
        offsets = [];
        next.set(topic, offsets);
      }
      offsets[partition] = offset;
    }
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      const partition = partitions[i]!;
      const offsets = next.get(item.topic);
      const offset = offsets?.[partition];
      if (offset === undefined) {
        fail(item, new Error(`kafka reply had no offset for ${item.topic}:${partition}`));
        continue;
      }
      offsets![partition] = offset + 1n;
      if (!item.done) {
        item.done = true;
        item.resolve(kafkaId(partition, offset));
      }
    }
  }

  private failed(attempt: Attempt, batch: Pending[], error: unknown): void {
    // the failed request's sequence numbers may or may not be stored: never reuse them (the other
    // requests in flight on that producer fail with it and are sent again too: twice, never zero times)
    if (attempt.producer === undefined || attempt.producer === this.producer) {
      void this.dropProducer();
    }
    if (isTooLarge(error) && batch.length > 1 && this.maxBatchBytes > MIN_BATCH_BYTES) {
      this.maxBatchBytes = Math.max(MIN_BATCH_BYTES, Math.floor(this.maxBatchBytes / 2));
      this.deps.logger.warn('kafka refused a request as too large; sending smaller ones', {
        maxBatchBytes: this.maxBatchBytes,
      });
      this.requeue(batch);
      this.retryLater();
      return;
    }
    if (isPermanent(error) || isTooLarge(error)) {
      batch.forEach((item) => fail(item, error as Error));
      return;
    }
    this.deps.logger.debug('publish batch failed, will retry', {
      count: batch.length,
      error: (error as Error).message,
    });
    this.requeue(batch);
    this.retryLater();
  }

  private afterSend(): void {
    this.releaseWaiters();
    if (!this.retryTimer) {
      this.pump();
    }
    this.settleIdle();
  }

  /** Retries after a pause that grows with each failure in a row (never in the same turn). */
  private retryLater(): void {
    if (this.retryTimer) {
      return;
    }
    const delay = Math.min(1000, 10 * 2 ** Math.min(this.failedSends++, 7));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, delay);
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) {
      await closeForcibly(producer);
    }
  }

  private settleIdle(): void {
    if (this.buffered === 0) {
      this.stopSweep();
      for (const resolve of this.idleResolvers.splice(0)) {
        resolve();
      }
    }
  }

  /** Puts messages back at the front, keeping publish order among everything queued. */
  private requeue(items: Pending[]): void {
    if (items.length === 0) {
      return;
    }
    const merged = items.concat(this.queue.slice(this.head));
    merged.sort((a, b) => a.seq - b.seq);
    this.queue = merged;
    this.head = 0;
  }

  private startSweep(): void {
    if (!this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.rejectExpired(), Math.min(250, this.options.timeoutMs));
      this.sweepTimer.unref();
    }
  }

  private stopSweep(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Rejects queued messages (each request in flight has its own timer) whose deadline passed. */
  private rejectExpired(): void {
    const now = performance.now();
    const keep: Pending[] = [];
    const expired: Pending[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      (item.deadline <= now ? expired : keep).push(item);
    }
    if (expired.length > 0) {
      this.queue = keep;
      this.head = 0;
      this.expire(expired, now);
      this.releaseWaiters();
      this.settleIdle();
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i]!;
      if (waiter.deadline <= now) {
        this.waiters.splice(i, 1);
        waiter.reject(
          new BrokerBackpressureError(`publish buffer stayed full for ${this.options.timeoutMs} ms; nothing stored`),
        );
      }
    }
  }

  private expire(items: readonly Pending[], now: number): void {
    if (items.length === 0) {
      return;
    }
    const error = new BrokerUnavailableError(
      `Kafka unavailable for ${this.options.timeoutMs} ms: message not stored (or not confirmed)`,
    );
    items.forEach((item) => fail(item, error));
    this.expiredSinceLog += items.length;
    // once per few seconds: an outage must not flood the logs
    if (now - this.lastExpiryLogAt >= 5000) {
      this.deps.logger.warn('publish timed out waiting for kafka', {
        rejected: this.expiredSinceLog,
        timeoutMs: this.options.timeoutMs,
      });
      this.expiredSinceLog = 0;
      this.lastExpiryLogAt = now;
    }
  }

  private waitForRoom(count: number): Promise<void> {
    this.startSweep();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ count, deadline: performance.now() + this.options.timeoutMs, resolve, reject });
    });
  }

  private releaseWaiters(): void {
    let room = this.options.maxBuffered - this.buffered;
    while (this.waiters.length > 0 && this.waiters[0]!.count <= room) {
      const waiter = this.waiters.shift()!;
      room -= waiter.count;
      this.reserved += waiter.count;
      waiter.resolve();
    }
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
