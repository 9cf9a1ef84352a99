import { BrokerBackpressureError, BrokerClosedError, BrokerUnavailableError } from './errors';
import type { BrokerLogger } from './logger';
import { backoffMs } from './sleep';

export interface PublishQueueOptions {
  /** Messages accepted but not yet confirmed (queued + in flight). */
  maxBuffered: number;
  /** How long a message may wait for the server before its publish is rejected. */
  timeoutMs: number;
  /** When the buffer is full: reject at once, or wait for room (up to `timeoutMs`). */
  onFull: 'reject' | 'wait';
}

/** A message accepted and not settled yet; a backend adds what it sends (a key and JSON, a record). */
export interface Queued {
  readonly seq: number;
  /** On the monotonic clock: a wall clock that jumps (NTP, a VM resuming) must not expire everything at once. */
  readonly deadline: number;
  /** Resolved or rejected: nothing more may happen to its caller's promise. */
  done: boolean;
  readonly resolve: (id: string) => void;
  readonly reject: (error: Error) => void;
}

/** Builds a backend's queued message (field by field: an object spread per message costs, publishing is hot). */
export type BuildQueued<M, T extends Queued> = (
  message: M,
  seq: number,
  deadline: number,
  resolve: (id: string) => void,
  reject: (error: Error) => void,
) => T;

/** Resolves a message's publish with its id unless it was settled already. */
export function confirm(item: Queued, id: string): void {
  if (!item.done) {
    item.done = true;
    item.resolve(id);
  }
}

/** Rejects a message's publish unless it was settled already. */
export function fail(item: Queued, error: Error): void {
  if (!item.done) {
    item.done = true;
    item.reject(error);
  }
}

/** `value` (or `fallback`) if it is an integer from 1 to `max`; else a RangeError naming the option and the rule. */
export function positiveInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1 || resolved > max) {
    throw new RangeError(`${name} must be an integer from 1 to ${max}, got ${resolved}`);
  }
  return resolved;
}

/** The publish settings both brokers take (their names in the brokers' options). */
export interface PublishSettings {
  /** Messages held while the server is slow or down (queued + in flight). Default 10 000. */
  maxBufferedMessages?: number;
  /** How long a publish may wait for the server before it is rejected. Default 30 000 ms. */
  publishTimeoutMs?: number;
  /** Buffer full: `reject` the publish at once (default) or `wait` for room up to the timeout. */
  onBufferFull?: 'reject' | 'wait';
  /** Messages per write to the server (each backend says its default). */
  publishBatchSize?: number;
  /** How long `close()` waits for buffered messages to be confirmed before rejecting them. Default 5000 ms. */
  closeTimeoutMs?: number;
}

/**
 * A broker's publish settings with their defaults, checked: call it before opening any connection,
 * so that a bad setting leaves nothing open behind its RangeError.
 */
export function publishQueueOptions(
  settings: PublishSettings,
  defaultBatchSize: number,
): PublishQueueOptions & { batchSize: number } {
  return {
    maxBuffered: positiveInteger('maxBufferedMessages', settings.maxBufferedMessages, 10_000),
    timeoutMs: positiveInteger('publishTimeoutMs', settings.publishTimeoutMs, 30_000),
    onFull: settings.onBufferFull ?? 'reject',
    batchSize: positiveInteger('publishBatchSize', settings.publishBatchSize, defaultBatchSize),
  };
}

interface Waiter {
  readonly count: number;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/**
 * The publish queue both backends share: a bounded buffer of accepted messages in publish order,
 * back-pressure (reject at once, or wait for room until the deadline), deadlines swept while
 * anything is buffered, failed messages put back in order, a growing pause between failed sends,
 * and drain. A backend says how many messages are in flight and sends them (`pump`), confirming or
 * failing each; messages published in the same tick reach `pump` together.
 */
export abstract class PublishQueue<T extends Queued, O extends PublishQueueOptions = PublishQueueOptions> {
  protected queue: T[] = [];
  protected head = 0;
  protected retryTimer: NodeJS.Timeout | undefined;
  /** Room promised to waiters that have not queued their messages yet. */
  private reserved = 0;
  private seq = 0;
  private scheduled = false;
  private closed = false;
  private readonly waiters: Waiter[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private failedSends = 0;
  private idleResolvers: Array<() => void> = [];
  private expiredSinceLog = 0;
  private lastExpiryLogAt = Number.NEGATIVE_INFINITY;

  protected constructor(
    /** Names the server in errors and logs: `Redis`, `Kafka`. */
    private readonly server: string,
    protected readonly options: O,
    protected readonly logger: BrokerLogger,
  ) {}

  /** Queued plus in flight. */
  get buffered(): number {
    return this.queue.length - this.head + this.inFlight() + this.reserved;
  }

  /** Messages sent whose callers still wait. */
  protected abstract inFlight(): number;

  /** Sends queued messages, as many as the backend takes now. */
  protected abstract pump(): void;

  /**
   * Queues messages; resolves with their ids once the server stored every one of them. Rejects if
   * any could not be stored (a batch spread over several sends may then be partly stored: each
   * envelope's id makes a retry idempotent downstream).
   */
  protected enqueue<M>(messages: readonly M[], build: BuildQueued<M, T>): Promise<string[]> {
    const refused = this.refuse(messages.length);
    if (refused) {
      return refused.then(() => this.enqueue(messages, build));
    }
    if (messages.length === 0) {
      return Promise.resolve([]);
    }
    return new Promise<string[]>((resolve, reject) => {
      const ids = new Array<string>(messages.length);
      let left = messages.length;
      let failed = false;
      const failAll = (error: Error): void => {
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
        this.queue.push(build(message, this.seq++, deadline, done, failAll));
      });
      this.schedule();
    });
  }

  /**
   * One message: the hot path, so no array and no extra promise. `internal` (dead letters of a
   * stopping consumer) is accepted after `stopIntake()`, and never refused for back-pressure.
   */
  protected enqueueOne<M>(message: M, build: BuildQueued<M, T>, internal = false): Promise<string> {
    const refused = internal ? undefined : this.refuse(1);
    if (refused) {
      return refused.then(() => this.enqueueOne(message, build));
    }
    return new Promise<string>((resolve, reject) => {
      this.queue.push(build(message, this.seq++, performance.now() + this.options.timeoutMs, resolve, reject));
      this.schedule();
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

  /** Refuses new messages; what is buffered still gets its chance until its deadline. */
  stopIntake(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new BrokerClosedError());
    }
  }

  /** Rejects everything queued and every waiter (what is in flight is the backend's to settle). */
  protected rejectQueued(error: Error): void {
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
  }

  /** Takes the queued messages up to `end` (exclusive) for sending. */
  protected take(end: number): T[] {
    const batch = this.queue.slice(this.head, end);
    this.head = end;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return batch;
  }

  /** Puts messages whose send failed back at the front, keeping publish order; rejects the expired. */
  protected requeue(items: readonly T[]): void {
    if (items.length === 0) {
      return;
    }
    const merged = items.concat(this.queue.slice(this.head));
    merged.sort((a, b) => a.seq - b.seq);
    this.queue = merged;
    this.head = 0;
    this.rejectExpired();
  }

  /**
   * Pumps again after a pause that grows with each failed send in a row, never in the same turn of
   * the event loop: a failed send rejects within microtasks, and retrying from there would spin
   * without ever letting the loop see the connection's 'close' (found by a test: publishes spun,
   * starving every timer and socket, until their deadline passed).
   */
  protected retryLater(): void {
    if (this.retryTimer) {
      return;
    }
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.pump();
      },
      backoffMs(this.failedSends++, 10, 1000),
    );
  }

  /** A send went through: the next failure pauses briefly again. */
  protected sendSucceeded(): void {
    this.failedSends = 0;
  }

  /** Hands freed room to waiters, in order. */
  protected releaseWaiters(): void {
    let room = this.options.maxBuffered - this.buffered;
    while (this.waiters.length > 0 && this.waiters[0]!.count <= room) {
      const waiter = this.waiters.shift()!;
      room -= waiter.count;
      this.reserved += waiter.count;
      waiter.resolve();
    }
  }

  /** Once nothing is buffered: resolves drain() and stops the sweep. */
  protected settleIdle(): void {
    if (this.buffered === 0) {
      if (this.waiters.length === 0) {
        this.stopSweep();
      }
      for (const resolve of this.idleResolvers.splice(0)) {
        resolve();
      }
    }
  }

  /** Rejects messages whose deadline passed: "not stored, or not confirmed". Logged once per few seconds. */
  protected expire(items: readonly T[], now: number): void {
    if (items.length === 0) {
      return;
    }
    const error = new BrokerUnavailableError(
      `${this.server} unavailable for ${this.options.timeoutMs} ms: message not stored (or not confirmed)`,
    );
    items.forEach((item) => fail(item, error));
    this.expiredSinceLog += items.length;
    // an outage must not flood the logs
    if (now - this.lastExpiryLogAt >= 5000) {
      this.logger.warn(`publish timed out waiting for ${this.server.toLowerCase()}`, {
        rejected: this.expiredSinceLog,
        timeoutMs: this.options.timeoutMs,
      });
      this.expiredSinceLog = 0;
      this.lastExpiryLogAt = now;
    }
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
          `publish buffer full (${this.buffered}/${this.options.maxBuffered} messages waiting for ${this.server})`,
        ),
      );
    }
    // the room reserved for us is handed back just before we queue: the retry then fits
    return this.waitForRoom(count).then(() => {
      this.reserved -= count;
    });
  }

  private schedule(): void {
    this.startSweep();
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

  private waitForRoom(count: number): Promise<void> {
    this.startSweep();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ count, deadline: performance.now() + this.options.timeoutMs, resolve, reject });
    });
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

  /** Rejects queued messages (a backend expires what it has in flight) and waiters whose deadline passed. */
  private rejectExpired(): void {
    const now = performance.now();
    const keep: T[] = [];
    const expired: T[] = [];
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
    if (this.buffered === 0 && this.waiters.length === 0) {
      this.stopSweep();
    }
  }
}
