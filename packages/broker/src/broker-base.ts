import { DEAD_LETTER_SUFFIX } from './dead-letter';
import { assertName } from './envelope.schema';
import { BrokerClosedError } from './errors';
import type { BrokerLogger } from './logger';
import type { Consumer, Tail } from './types';

/** What a backend's publisher offers its broker for shutting down. */
export interface DrainingQueue {
  readonly buffered: number;
  /** Refuses new messages from now on. */
  stopIntake(): void;
  /** Resolves true once every buffered message was confirmed, false when `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean>;
}

/**
 * What both backends' brokers do alike: keep their consumers and tails, check a channel's name once,
 * refuse work after close, and close in one order (intake stopped, consumers stopped, tails closed,
 * the queue drained for `closeTimeoutMs`) before the backend lets go of its connections.
 */
export abstract class BrokerBase {
  protected readonly consumers = new Set<Consumer>();
  protected readonly tails = new Set<Tail>();
  private readonly knownChannels = new Set<string>();
  private closing: Promise<void> | undefined;

  protected abstract readonly publisher: DrainingQueue;
  protected abstract readonly logger: BrokerLogger;
  protected abstract readonly options: { readonly closeTimeoutMs?: number | undefined };

  /** After the queue drained (or did not): reject what is left, close the backend's clients. */
  protected abstract closeTransport(drained: boolean): Promise<void>;

  get buffered(): number {
    return this.publisher.buffered;
  }

  deadLetterChannel(channel: string): string {
    return `${channel}${DEAD_LETTER_SUFFIX}`;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** Keeps a consumer until it stopped: close() stops it first. */
  protected track<C extends Consumer>(consumer: C): C {
    this.consumers.add(consumer);
    void consumer.stopped.finally(() => this.consumers.delete(consumer));
    return consumer;
  }

  /** Passed to a tail: it calls this once closed. */
  protected readonly untrackTail = (tail: Tail): void => {
    this.tails.delete(tail);
  };

  /** A channel name published to is checked once (a bounded set remembers the good ones). */
  protected assertChannel(channel: string): void {
    if (!this.knownChannels.has(channel)) {
      assertName('channel', channel);
      if (this.knownChannels.size < 10_000) {
        this.knownChannels.add(channel);
      }
    }
  }

  protected assertOpen(): void {
    if (this.closing) {
      throw new BrokerClosedError();
    }
  }

  private async shutdown(): Promise<void> {
    this.publisher.stopIntake();
    await Promise.all([...this.consumers].map((consumer) => consumer.stop()));
    await Promise.all([...this.tails].map((tail) => tail.close()));
    const drained = await this.publisher.drain(this.options.closeTimeoutMs ?? 5000);
    if (!drained) {
      this.logger.warn('broker closed with messages unconfirmed; their publishes are rejected', {
        count: this.publisher.buffered,
      });
    }
    await this.closeTransport(drained);
  }
}
