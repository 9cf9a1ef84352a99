import type Redis from 'ioredis';
import { BrokerClosedError } from '../errors';
import type { BrokerLogger } from '../logger';
import { confirm, fail, PublishQueue, type PublishQueueOptions, type Queued } from '../publish-queue';
import { isTransientRedisError, waitForReady } from './connection';
import { xaddBatch } from './xadd-batch';

export interface PublisherOptions extends PublishQueueOptions {
  /** Messages per batch sent to Redis. */
  batchSize: number;
  /** Batches in flight at once on the connection. */
  maxInFlightBatches: number;
}

interface Pending extends Queued {
  readonly key: string;
  readonly json: string;
}

function groupByKey(batch: Pending[]): Array<[string, Pending[]]> {
  const groups = new Map<string, Pending[]>();
  for (const item of batch) {
    let group = groups.get(item.key);
    if (!group) {
      group = [];
      groups.set(item.key, group);
    }
    group.push(item);
  }
  return [...groups];
}

/**
 * The publish queue (publish-queue.ts) in front of XADD. Messages published in the same tick go
 * out as one batch (one script call per stream); several batches stay in flight. A message whose
 * XADD fails because the connection dropped is queued again (in its original order) and retried
 * until its deadline; only an XADD that Redis answered with an id resolves the caller's promise.
 * Resending after a drop can store a message twice (its reply was lost), never zero times:
 * `envelope.id` is the idempotency key downstream.
 */
export class Publisher extends PublishQueue<Pending, PublisherOptions> {
  private sending = 0;
  private sendingBatches = 0;
  private waitingForRedis = false;

  constructor(
    private readonly redis: Redis,
    options: PublisherOptions,
    logger: BrokerLogger,
  ) {
    super('Redis', options, logger);
  }

  /** Queues messages for one stream; resolves with their ids once Redis stored every one of them. */
  publish(key: string, jsons: readonly string[]): Promise<string[]> {
    return this.enqueue(jsons, (json, seq, deadline, resolve, reject) => ({
      seq,
      key,
      json,
      deadline,
      done: false,
      resolve,
      reject,
    }));
  }

  /** One message: the hot path. */
  publishOne(key: string, json: string): Promise<string> {
    return this.enqueueOne(json, (one, seq, deadline, resolve, reject) => ({
      seq,
      key,
      json: one,
      deadline,
      done: false,
      resolve,
      reject,
    }));
  }

  /** Rejects everything still queued (not in flight: the connection's end settles those). */
  abort(error: Error): void {
    this.rejectQueued(error);
  }

  protected inFlight(): number {
    return this.sending;
  }

  protected pump(): void {
    if (this.redis.status !== 'ready') {
      this.awaitRedis();
      return;
    }
    const { batchSize, maxInFlightBatches } = this.options;
    while (this.head < this.queue.length && this.sendingBatches < maxInFlightBatches) {
      void this.send(this.take(Math.min(this.head + batchSize, this.queue.length)));
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    this.sending += batch.length;
    this.sendingBatches += 1;
    const retry: Pending[] = [];
    try {
      await Promise.all(
        groupByKey(batch).map(async ([key, items]) => {
          try {
            const ids = await xaddBatch(
              this.redis,
              key,
              items.map((item) => item.json),
            );
            items.forEach((item, i) => confirm(item, ids[i]!));
          } catch (error) {
            if (isTransientRedisError(error)) {
              // connection dropped or Redis busy: the batch is retried (stored once or not at all, see xaddBatch)
              this.logger.debug('publish batch failed, will retry', { count: items.length, error });
              retry.push(...items);
            } else {
              items.forEach((item) => fail(item, error as Error));
            }
          }
        }),
      );
    } finally {
      this.sending -= batch.length;
      this.sendingBatches -= 1;
    }
    this.releaseWaiters();
    if (retry.length > 0) {
      this.requeue(retry);
      this.retryLater();
    } else {
      this.sendSucceeded();
      if (this.head < this.queue.length && !this.retryTimer) {
        this.pump();
      } else {
        this.settleIdle();
      }
    }
  }

  private awaitRedis(): void {
    if (this.waitingForRedis) {
      return;
    }
    this.waitingForRedis = true;
    waitForReady(this.redis).then(
      () => {
        this.waitingForRedis = false;
        this.pump();
      },
      // the connection was closed for good: nothing queued can be stored any more
      () => this.abort(new BrokerClosedError('broker closed before Redis confirmed the message')),
    );
  }
}
