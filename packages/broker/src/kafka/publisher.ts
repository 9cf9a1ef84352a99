import { murmur2, type Producer, type ProduceResult } from '@platformatic/kafka';
import { kafkaErrorIs, type TopicRegistry } from './client';
import { kafkaId } from './id';
import type { BrokerLogger } from '../logger';
import { confirm, fail, PublishQueue, type BuildQueued, type PublishQueueOptions, type Queued } from '../publish-queue';

export interface KafkaPublisherOptions extends PublishQueueOptions {
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

interface Pending extends OutgoingMessage, Queued {}

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

const pending: BuildQueued<OutgoingMessage, Pending> = (message, seq, deadline, resolve, reject) => ({
  topic: message.topic,
  key: message.key,
  value: message.value,
  seq,
  deadline,
  done: false,
  resolve,
  reject,
});

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
export class KafkaPublisher extends PublishQueue<Pending, KafkaPublisherOptions> {
  private readonly attempts = new Set<Attempt>();
  private producer: Producer | undefined;
  private readonly holds = new Set<Promise<unknown>>();
  /** Request size cap; halved when Kafka refuses a request as too large (a topic with a lower limit). */
  private maxBatchBytes: number;

  constructor(
    private readonly deps: {
      readonly createProducer: () => Producer;
      readonly topics: TopicRegistry;
      readonly logger: BrokerLogger;
    },
    options: KafkaPublisherOptions,
  ) {
    super('Kafka', options, deps.logger);
    this.maxBatchBytes = options.maxBatchBytes;
  }

  /** Queues messages; resolves with their ids once Kafka stored every one of them. */
  publish(messages: readonly OutgoingMessage[]): Promise<string[]> {
    return this.enqueue(messages, pending);
  }

  /**
   * One message. `internal` (dead letters of a stopping consumer) is accepted after `stopIntake()`,
   * and never refused for back-pressure.
   */
  publishOne(message: OutgoingMessage, internal = false): Promise<string> {
    return this.enqueueOne(message, pending, internal);
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

  /** Rejects everything queued and in flight, and drops the producer (the end of `close()`). */
  async abort(error: Error): Promise<void> {
    const attempts = [...this.attempts];
    this.attempts.clear();
    for (const attempt of attempts) {
      clearTimeout(attempt.expiryTimer);
      attempt.live = 0;
      attempt.batch.forEach((item) => fail(item, error));
    }
    this.rejectQueued(error);
    await this.dropProducer();
  }

  protected inFlight(): number {
    let live = 0;
    for (const attempt of this.attempts) {
      live += attempt.live;
    }
    return live;
  }

  protected pump(): void {
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
      void this.send(this.take(end));
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const attempt: Attempt = { batch, live: batch.length };
    this.attempts.add(attempt);
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
        this.sendSucceeded();
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
      confirm(item, kafkaId(partition, offset));
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

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer) {
      await closeForcibly(producer);
    }
  }
}
