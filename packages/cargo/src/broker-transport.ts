import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import TransportStream from 'winston-transport';
import {
  BrokerClosedError,
  EnvelopeValidationError,
  LEVELS,
  type Broker,
  type Level,
  type MessageInput,
} from '@mupets/broker';
import { ENVELOPE_ID, jsonReplacer } from './log-format';
import { redactSecrets } from './redact';

/**
 * Marks an entry for stdout only. The transport's own notices carry it, so reporting a broker
 * problem never queues more work for the broker.
 */
export const LOCAL_ONLY: unique symbol = Symbol.for('mupets.cargo.localOnly') as never;

/** Fields of a winston entry that the envelope carries elsewhere (or not at all). */
const ENVELOPE_FIELDS = new Set(['level', 'message', 'timestamp', 'service', 'instance']);
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const LEVEL_SET = new Set<string>(LEVELS);
// well under the broker's 64 KiB envelope limit, leaving room for the envelope around the data
const MAX_DATA_BYTES = 48 * 1024;
const MAX_MESSAGE_CHARS = 8 * 1024;

/** Receives the transport's own notices; they must reach stdout and must not come back here. */
export type NoticeWriter = (level: 'warn' | 'info', message: string, metadata: Record<string, unknown>) => void;

export interface BrokerTransportOptions extends TransportStream.TransportStreamOptions {
  /** Where entries go; only `publish` is used. */
  broker: Pick<Broker, 'publish'>;
  /** `source.service` of every envelope. */
  service: string;
  /** `source.instance`, e.g. the replica or container name. Default: none. */
  instance?: string;
  /** Channel the entries are published to. Default `logs`. */
  channel?: string;
  /** Entries held while the broker is slow or down; beyond it the oldest are dropped. Default 10 000. */
  maxBuffered?: number;
  /** Entries per `publish` call. Default 500. */
  batchSize?: number;
  /** First retry delay after a failed publish; doubles per failure. Default 100 ms. */
  minBackoffMs?: number;
  /** Longest retry delay. Default 5000 ms. */
  maxBackoffMs?: number;
  /** Where the "delivery failing" and "delivery resumed" lines go. Default: a JSON line on stdout. */
  notify?: NoticeWriter;
}

/**
 * A winston transport that publishes every entry to the broker's `logs` channel, in batches, from
 * a bounded buffer. It never blocks or throws into the service: `log()` only buffers; a background
 * loop publishes and, while the broker is unreachable, keeps the entries and retries with back-off.
 * When the buffer overflows the oldest entries are dropped and counted. Entries reach stdout through
 * the logger's other transport regardless, so an outage loses nothing from the container's log.
 */
export class BrokerTransport extends TransportStream {
  private readonly broker: Pick<Broker, 'publish'>;
  private readonly channel: string;
  private readonly source: MessageInput['source'];
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly notify: NoticeWriter;
  /** Marks the async context of our own publish calls; see `log()`. */
  private readonly publishing = new AsyncLocalStorage<true>();

  private buffer: MessageInput[] = [];
  private inFlight = 0;
  private running = false;
  private flushing = 0;
  private stopped = false;
  private failures = 0;
  private failingSince: number | undefined;
  private overflowing = false;
  private droppedTotal = 0;
  private droppedSinceNotice = 0;
  private rejectedTotal = 0;
  private backoffTimer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(options: BrokerTransportOptions) {
    super(options);
    this.broker = options.broker;
    this.channel = options.channel ?? 'logs';
    this.source = { service: options.service, host: hostname() };
    if (options.instance !== undefined) {
      this.source.instance = options.instance;
    }
    this.maxBuffered = Math.max(1, options.maxBuffered ?? 10_000);
    this.batchSize = Math.max(1, Math.min(options.batchSize ?? 500, this.maxBuffered));
    // at least 1 ms, so a broker that fails synchronously can never spin the loop
    this.minBackoffMs = Math.max(1, options.minBackoffMs ?? 100);
    this.maxBackoffMs = Math.max(this.minBackoffMs, options.maxBackoffMs ?? 5000);
    this.notify = options.notify ?? stdoutNotice(options.service);
  }

  /** Entries waiting (queued or being published). */
  get buffered(): number {
    return this.buffer.length + this.inFlight;
  }

  /** Entries dropped because the buffer was full, since the transport was created. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Entries the broker refused as invalid even after they were cut down to a minimal envelope. */
  get rejected(): number {
    return this.rejectedTotal;
  }

  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    // Two guards against a feedback loop: our own notices are stdout-only, and whatever the broker
    // logs while handling our publish (its retry and timeout warnings) runs in the async context
    // of that publish and stays on stdout; otherwise every failed publish would queue another entry.
    if (!this.stopped && info[LOCAL_ONLY] !== true && this.publishing.getStore() !== true) {
      this.enqueue(this.toMessage(info));
    }
    callback();
  }

  /**
   * Publishes what is buffered until the buffer is empty or `timeoutMs` passes, retrying at the
   * shortest back-off meanwhile. Resolves true when everything was delivered. For shutdown, before
   * the broker is closed.
   */
  async flush(timeoutMs = 5000): Promise<boolean> {
    if (this.buffered === 0) {
      return true;
    }
    this.flushing += 1;
    try {
      this.skipBackoff();
      this.start();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.idleWaiters = this.idleWaiters.filter((waiter) => waiter !== done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.idleWaiters.push(done);
      });
    } finally {
      this.flushing -= 1;
    }
    return this.buffered === 0;
  }

  /** Stops accepting and publishing; entries still buffered are abandoned (call `flush` first). */
  override close(): void {
    this.stopped = true;
    this.skipBackoff();
    this.buffer = [];
    this.settleIdle();
  }

  private toMessage(info: Record<string | symbol, unknown>): MessageInput {
    const level = toBrokerLevel(info.level, info.fatal);
    const timestamp = info.timestamp;
    const message: MessageInput = {
      // fixed before the broker sees it: a retry after a lost reply repeats the same id, which the
      // archive's unique index recognises. The logger assigns it once per entry (stdout prints it
      // too, for the log-collector); an entry logged some other way gets one here.
      id: typeof info[ENVELOPE_ID] === 'string' ? info[ENVELOPE_ID] : randomUUID(),
      type: 'log',
      ts: typeof timestamp === 'string' && ISO_UTC.test(timestamp) ? timestamp : new Date().toISOString(),
      level,
      message: truncate(typeof info.message === 'string' ? info.message : String(info.message)),
      source: this.source,
    };
    const data = toJsonSafe(info);
    if (data !== undefined) {
      message.data = data;
    }
    return message;
  }

  private enqueue(message: MessageInput): void {
    this.buffer.push(message);
    if (this.buffer.length > this.maxBuffered) {
      this.drop(this.buffer.length - this.maxBuffered);
    }
    this.start();
  }

  private drop(count: number): void {
    this.buffer.splice(0, count);
    this.droppedTotal += count;
    this.droppedSinceNotice += count;
    if (this.failingSince === undefined && !this.overflowing) {
      // the broker accepts, but slower than the service logs: say so once per episode
      this.overflowing = true;
      this.notify('warn', 'log buffer full, dropping the oldest entries', {
        channel: this.channel,
        maxBuffered: this.maxBuffered,
      });
    }
  }

  private start(): void {
    if (this.running || this.stopped || this.buffer.length === 0) {
      return;
    }
    this.running = true;
    // setImmediate: entries logged in the same tick join one batch, and log() never waits on I/O
    setImmediate(() => {
      this.run().catch((error: unknown) => {
        // run() handles its own failures; reaching this is a bug, which must still not crash the service
        this.notify('warn', 'log delivery loop failed', { error: String(error) });
        this.running = false;
      });
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      this.inFlight = batch.length;
      let failure: unknown;
      try {
        await this.publishing.run(true, () => this.publish(batch));
      } catch (error) {
        failure = error;
      } finally {
        this.inFlight = 0;
      }
      if (failure === undefined) {
        this.delivered();
        continue;
      }
      if (this.stopped) {
        break;
      }
      if (failure instanceof BrokerClosedError) {
        // closed on purpose (shutdown): retrying cannot help, and stdout already has every entry
        this.notify('info', 'broker closed, log delivery stopped', {
          channel: this.channel,
          undelivered: batch.length + this.buffer.length,
        });
        this.close();
        break;
      }
      // keep the batch, ahead of what arrived meanwhile, then enforce the bound on the oldest
      this.buffer = batch.concat(this.buffer);
      if (this.buffer.length > this.maxBuffered) {
        this.drop(this.buffer.length - this.maxBuffered);
      }
      this.failed(failure);
      await this.backoff();
    }
    this.running = false;
    if (this.buffer.length === 0) {
      this.settleIdle();
    }
  }

  /**
   * Publishes one batch. The broker refuses a whole batch when one envelope is invalid (too large,
   * bad field): the entries it names are cut down to a minimal envelope and the batch is sent
   * again; an entry refused even then is dropped and counted, so one bad entry never blocks the others.
   */
  private async publish(batch: MessageInput[]): Promise<void> {
    let refusal: EnvelopeValidationError;
    try {
      await this.broker.publish(this.channel, batch);
      return;
    } catch (error) {
      if (!(error instanceof EnvelopeValidationError)) {
        throw error;
      }
      refusal = error;
    }
    const bad = refusedIndexes(refusal, batch.length);
    if (bad.size > 0) {
      try {
        await this.broker.publish(
          this.channel,
          batch.map((message, index) => (bad.has(index) ? minimal(message, refusal) : message)),
        );
        return;
      } catch (error) {
        if (!(error instanceof EnvelopeValidationError)) {
          throw error;
        }
      }
    }
    // the refusal does not say which entries are at fault: one at a time, so only those are lost
    // (a failure half-way re-sends the batch; the envelope ids make the repeats recognisable)
    for (const message of batch) {
      try {
        await this.broker.publish(this.channel, message);
      } catch (error) {
        if (!(error instanceof EnvelopeValidationError)) {
          throw error;
        }
        try {
          await this.broker.publish(this.channel, minimal(message, error));
        } catch (again) {
          if (!(again instanceof EnvelopeValidationError)) {
            throw again;
          }
          this.rejectedTotal += 1;
        }
      }
    }
  }

  private delivered(): void {
    this.failures = 0;
    if (this.failingSince !== undefined) {
      this.notify('info', 'log delivery to broker resumed', {
        channel: this.channel,
        downMs: Math.round(performance.now() - this.failingSince),
        dropped: this.droppedSinceNotice,
      });
      this.failingSince = undefined;
      this.droppedSinceNotice = 0;
      this.overflowing = false;
    } else if (this.overflowing && this.buffer.length === 0) {
      this.notify('info', 'log buffer drained', { channel: this.channel, dropped: this.droppedSinceNotice });
      this.overflowing = false;
      this.droppedSinceNotice = 0;
    }
  }

  private failed(error: unknown): void {
    this.failures += 1;
    if (this.failingSince === undefined) {
      this.failingSince = performance.now();
      this.notify('warn', 'log delivery to broker failing, logs are on stdout only until it is back', {
        channel: this.channel,
        buffered: this.buffered,
        maxBuffered: this.maxBuffered,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private backoff(): Promise<void> {
    // while flushing for shutdown, retry at the shortest interval: the deadline is near
    const delay =
      this.flushing > 0
        ? this.minBackoffMs
        : Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.min(this.failures - 1, 30));
    return new Promise<void>((resolve) => {
      this.wakeUp = () => resolve();
      this.backoffTimer = setTimeout(() => resolve(), delay);
      // the retry loop must never be what keeps a finished process alive
      this.backoffTimer.unref();
    }).finally(() => {
      this.backoffTimer = undefined;
      this.wakeUp = undefined;
    });
  }

  private skipBackoff(): void {
    if (this.backoffTimer) {
      clearTimeout(this.backoffTimer);
    }
    this.wakeUp?.();
  }

  private settleIdle(): void {
    for (const resolve of this.idleWaiters.splice(0)) {
      resolve();
    }
  }
}

/** Batch positions named by the broker's issue paths (`[3].data`). */
function refusedIndexes(error: EnvelopeValidationError, size: number): Set<number> {
  const indexes = new Set<number>();
  for (const issue of error.issues) {
    const match = /^\[(\d+)\]/.exec(issue.path);
    if (match && Number(match[1]) < size) {
      indexes.add(Number(match[1]));
    }
  }
  return indexes;
}

function toBrokerLevel(level: unknown, fatal: unknown): Level {
  if (fatal === true) {
    return 'fatal';
  }
  return typeof level === 'string' && LEVEL_SET.has(level) ? (level as Level) : 'info';
}

/**
 * The entry's metadata as plain JSON: whatever the logger's formats let through (BigInt, cycles,
 * throwing getters, huge values) must not make the envelope invalid and sink the whole batch.
 */
function toJsonSafe(info: Record<string, unknown>): Record<string, unknown> | undefined {
  const metadata: Record<string, unknown> = {};
  let empty = true;
  for (const key of Object.keys(info)) {
    if (!ENVELOPE_FIELDS.has(key)) {
      metadata[key] = info[key];
      empty = false;
    }
  }
  if (empty) {
    return undefined;
  }
  let json: string;
  try {
    json = JSON.stringify(redactSecrets(metadata), jsonReplacer) ?? '{}';
  } catch (error) {
    return { unserializable: error instanceof Error ? error.message : String(error) };
  }
  if (Buffer.byteLength(json, 'utf8') > MAX_DATA_BYTES) {
    return { truncated: true, bytes: Buffer.byteLength(json, 'utf8'), preview: json.slice(0, 1024) };
  }
  return JSON.parse(json) as Record<string, unknown>;
}

function truncate(message: string): string {
  return message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}…[truncated]` : message;
}

function minimal(message: MessageInput, error: EnvelopeValidationError): MessageInput {
  const reduced: MessageInput = {
    type: message.type,
    source: message.source,
    ...(message.id === undefined ? {} : { id: message.id }),
    message: (message.message ?? '').slice(0, 1024),
    data: { envelopeRejected: error.message.slice(0, 1024) },
  };
  if (message.ts !== undefined) {
    reduced.ts = message.ts;
  }
  if (message.level !== undefined) {
    reduced.level = message.level;
  }
  return reduced;
}

function stdoutNotice(service: string): NoticeWriter {
  return (level, message, metadata) => {
    const line = {
      timestamp: new Date().toISOString(),
      level,
      message,
      service,
      component: 'broker-transport',
      ...metadata,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
}
