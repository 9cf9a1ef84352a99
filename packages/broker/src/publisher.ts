import type Redis from 'ioredis';
import { BrokerBackpressureError, BrokerClosedError, BrokerUnavailableError } from './errors';
import type { BrokerLogger } from './logger';
import { isTransientRedisError, waitForReady } from './redis-connection';
import { xaddBatch } from './xadd-batch';

export interface PublisherOptions {
  /** Messages accepted but not yet confirmed (queued + in flight). */
  maxBuffered: number;
  /** How long a message may wait for Redis before its publish is rejected. */
  timeoutMs: number;
  /** When the buffer is full: reject at once, or wait for room (up to `timeoutMs`). */
  onFull: 'reject' | 'wait';
  /** Messages per batch sent to Redis. */
  batchSize: number;
  /** Batches in flight at once on the connection. */
  maxInFlightBatches: number;
}

// Deadlines use the monotonic clock: a wall clock that jumps (NTP, a VM resuming) must not expire
// every buffered message at once, nor keep them forever.

interface Pending {
  readonly seq: number;
  readonly key: string;
  readonly json: string;
  readonly deadline: number;
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
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

interface Waiter {
  readonly count: number;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * A bounded queue in front of XADD. Messages published in the same tick go out as one batch (one
 * script call per stream); several batches stay in flight. A message whose XADD fails because the connection dropped is
 * queued again (in its original order) and retried until its deadline; only an XADD that Redis
 * answered with an id resolves the caller's promise. Resending after a drop can store a message
 * twice (its reply was lost), never zero times: `envelope.id` is the idempotency key downstream.
 */
export class Publisher {
  private queue: Pending[] = [];
  private head = 0;
  private inFlight = 0;
  private inFlightBatches = 0;
  /** Room promised to waiters that have not pushed their messages yet. */
  private reserved = 0;
  private seq = 0;
  private scheduled = false;
  private waitingForRedis = false;
  private closed = false;
  private readonly waiters: Waiter[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private idleResolvers: Array<() => void> = [];
  private expiredSinceLog = 0;
  private lastExpiryLogAt = Number.NEGATIVE_INFINITY;
  private retryTimer: NodeJS.Timeout | undefined;
  private failedSends = 0;

  constructor(
    private readonly redis: Redis,
    private readonly options: PublisherOptions,
    private readonly logger: BrokerLogger,
  ) {}

  /** Queued plus in flight. */
  get buffered(): number {
    return this.queue.length - this.head + this.inFlight + this.reserved;
  }

  /**
   * Queues messages for one stream; resolves with their ids once Redis stored every one of them.
   * Rejects if any could not be stored (a batch spread over several sends may then be partly stored:
   * each envelope's id makes a retry idempotent downstream).
   */
  publish(key: string, jsons: readonly string[]): Promise<string[]> {
    const refused = this.refuse(jsons.length);
    if (refused) {
      return refused.then(() => this.publish(key, jsons));
    }
    if (jsons.length === 0) {
      return Promise.resolve([]);
    }
    return new Promise<string[]>((resolve, reject) => {
      const ids = new Array<string>(jsons.length);
      let left = jsons.length;
      let failed = false;
      const fail = (error: Error): void => {
        if (!failed) {
          failed = true;
          reject(error);
        }
      };
      const deadline = performance.now() + this.options.timeoutMs;
      jsons.forEach((json, i) => {
        const done = (id: string): void => {
          ids[i] = id;
          if (--left === 0 && !failed) {
            resolve(ids);
          }
        };
        this.queue.push({ seq: this.seq++, key, json, deadline, resolve: done, reject: fail });
      });
      this.schedule();
    });
  }

  /** One message: the hot path, so no array and no extra promise. */
  publishOne(key: string, json: string): Promise<string> {
    const refused = this.refuse(1);
    if (refused) {
      return refused.then(() => this.publishOne(key, json));
    }
    return new Promise<string>((resolve, reject) => {
      this.queue.push({
        seq: this.seq++,
        key,
        json,
        deadline: performance.now() + this.options.timeoutMs,
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  /**
   * Undefined when `count` more messages fit; otherwise a promise that rejects (closed, or full in
   * reject mode) or resolves once room was reserved for them (wait mode).
   */
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
          `publish buffer full (${this.buffered}/${this.options.maxBuffered} messages waiting for Redis)`,
        ),
      );
    }
    // the room reserved for us is handed back just before we queue: the retry then fits
    return this.waitForRoom(count).then(() => {
      this.reserved -= count;
    });
  }

  /**
   * Resolves when nothing is queued or in flight, or after `timeoutMs`; returns whether it got
   * there (each message resolves or rejects by its own deadline either way).
   */
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

  /** Rejects everything still queued (not in flight: the connection's end settles those). */
  abort(error: Error): void {
    const queued = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const item of queued) {
      item.reject(error);
    }
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(error);
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopSweep();
    this.settleIdle();
  }

  /** Refuses new messages; what is buffered still gets its chance until its deadline. */
  stopIntake(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new BrokerClosedError());
    }
  }

  private schedule(): void {
    if (this.scheduled) {
      return;
    }
    this.scheduled = true;
    // setImmediate, not a microtask: every publish() of the current tick joins the same batch
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.redis.status !== 'ready') {
      this.awaitRedis();
      return;
    }
    while (this.head < this.queue.length && this.inFlightBatches < this.options.maxInFlightBatches) {
      const end = Math.min(this.head + this.options.batchSize, this.queue.length);
      const batch = this.queue.slice(this.head, end);
      this.head = end;
      this.compact();
      void this.send(batch);
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    this.inFlight += batch.length;
    this.inFlightBatches += 1;
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
            items.forEach((item, i) => item.resolve(ids[i]!));
          } catch (error) {
            if (isTransientRedisError(error)) {
              // connection dropped or Redis busy: the batch is retried (stored once or not at all, see xaddBatch)
              this.logger.debug('publish batch failed, will retry', { count: items.length, error });
              retry.push(...items);
            } else {
              for (const item of items) {
                item.reject(error as Error);
              }
            }
          }
        }),
      );
    } finally {
      this.inFlight -= batch.length;
      this.inFlightBatches -= 1;
    }
    this.releaseWaiters();
    if (retry.length > 0) {
      this.requeue(retry);
      this.retryLater();
    } else {
      this.failedSends = 0;
      if (this.head < this.queue.length && !this.retryTimer) {
        this.pump();
      } else {
        this.settleIdle();
      }
    }
  }

  /**
   * Retries after a pause, never in the same turn of the event loop: a failed XADD rejects within
   * microtasks, and retrying from there would spin without ever letting the loop process the
   * connection's 'close' event (found by a test: publishes spun, starving every timer and socket,
   * until their deadline passed).
   */
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

  private settleIdle(): void {
    if (this.buffered === 0) {
      for (const resolve of this.idleResolvers.splice(0)) {
        resolve();
      }
    }
  }

  /** Puts failed messages back at the front, keeping publish order among everything queued. */
  private requeue(items: Pending[]): void {
    const rest = this.queue.slice(this.head);
    const merged = items.concat(rest);
    merged.sort((a, b) => a.seq - b.seq);
    this.queue = merged;
    this.head = 0;
    this.rejectExpired();
  }

  private awaitRedis(): void {
    if (this.waitingForRedis) {
      return;
    }
    this.waitingForRedis = true;
    this.startSweep();
    waitForReady(this.redis).then(
      () => {
        this.waitingForRedis = false;
        this.stopSweep();
        this.pump();
      },
      // the connection was closed for good: nothing queued can be stored any more
      () => this.abort(new BrokerClosedError('broker closed before Redis confirmed the message')),
    );
  }

  private startSweep(): void {
    if (this.sweepTimer) {
      return;
    }
    this.sweepTimer = setInterval(() => this.rejectExpired(), Math.min(250, this.options.timeoutMs));
    this.sweepTimer.unref();
  }

  private stopSweep(): void {
    if (this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** Rejects queued messages (not those in flight: their reply decides) whose deadline passed. */
  private rejectExpired(): void {
    const now = performance.now();
    let expired = 0;
    const keep: Pending[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (item.deadline <= now) {
        expired++;
        item.reject(
          new BrokerUnavailableError(
            `Redis unavailable for ${this.options.timeoutMs} ms: message not stored (or not confirmed)`,
          ),
        );
      } else {
        keep.push(item);
      }
    }
    if (expired > 0) {
      this.queue = keep;
      this.head = 0;
      this.expiredSinceLog += expired;
      // once per few seconds, not once per sweep: an outage must not flood the logs
      if (now - this.lastExpiryLogAt >= 5000) {
        this.logger.warn('publish timed out waiting for redis', {
          rejected: this.expiredSinceLog,
          timeoutMs: this.options.timeoutMs,
        });
        this.expiredSinceLog = 0;
        this.lastExpiryLogAt = now;
      }
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
    if (this.waiters.length === 0 && !this.waitingForRedis) {
      this.stopSweep();
    }
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
