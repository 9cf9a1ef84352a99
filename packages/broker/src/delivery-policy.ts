import { runBatchHandler } from './batch-handler';
import { deadLetterEnvelope, errorMessage } from './dead-letter';
import type { Envelope } from './envelope.schema';
import type { BrokerLogger } from './logger';
import type { BatchHandler, Delivery, HandlerFailure } from './types';

/** An entry as read, before the policy looked at it: its envelope, or why it has none. */
export type ReadEntry =
  | { readonly ok: true; readonly id: string; readonly deliveries: number; readonly envelope: Envelope }
  | {
      readonly ok: false;
      readonly id: string;
      readonly deliveries: number;
      readonly fields: readonly string[] | null;
      readonly error: Error;
    };

/** What the policy decided for one entry. */
export type Verdict =
  | { readonly action: 'deliver' }
  | { readonly action: 'ack' }
  | { readonly action: 'retry'; readonly failures: number }
  | {
      readonly action: 'dead-letter';
      /** Deliveries (or failures) the dead letter reports. */
      readonly deliveries: number;
      readonly error: unknown;
    };

export interface PolicyLimits {
  readonly maxDeliveries: number;
  /**
   * Whether an entry's `deliveries` counts only deliveries that ended without an ack (crashes and
   * failures), so that more than `maxDeliveries` of them is itself a reason to give up. True on
   * Kafka (the consumer writes the count before each batch); false on Redis, which also counts a
   * takeover from a live consumer that was merely slow.
   */
  readonly deliveriesMeanFailures: boolean;
}

/** Before the handler: a bad entry, or one that crashed its consumers too often, is dead-lettered. */
export function screen(entry: ReadEntry, limits: PolicyLimits): Verdict {
  if (!entry.ok) {
    return { action: 'dead-letter', deliveries: entry.deliveries, error: entry.error };
  }
  if (limits.deliveriesMeanFailures && entry.deliveries > limits.maxDeliveries) {
    const unacked = entry.deliveries - 1;
    return {
      action: 'dead-letter',
      deliveries: unacked,
      error: new Error(`delivered ${unacked} times without an ack (consumer crashed or stalled each time)`),
    };
  }
  return { action: 'deliver' };
}

/**
 * After the handler: success acks; a failure marked permanent, or the `maxDeliveries`-th one, is
 * dead-lettered; any other failure is retried. `failures` counts the entry's handler failures, this
 * one included.
 */
export function settle(
  delivery: Pick<Delivery, 'deliveries'>,
  failure: HandlerFailure | undefined,
  failures: number,
  limits: PolicyLimits,
): Verdict {
  if (!failure) {
    return { action: 'ack' };
  }
  if (failure.deadLetter) {
    return { action: 'dead-letter', deliveries: delivery.deliveries, error: failure.error };
  }
  if (failures >= limits.maxDeliveries) {
    return { action: 'dead-letter', deliveries: failures, error: failure.error };
  }
  return { action: 'retry', failures };
}

/** What a backend does with the policy's verdicts; `T` is its own handle on an entry. */
export interface DeliveryBackend<T> {
  readonly channel: string;
  readonly deadLetterChannel: string;
  readonly group: string;
  readonly consumer: string;
  readonly logger: BrokerLogger;
  readonly limits: PolicyLimits;
  read(item: T): ReadEntry;
  /** Records one more handler failure of a non-permanent kind; returns the entry's failures so far. */
  countFailure(item: T, delivery: Delivery): Promise<number> | number;
  /** Leaves the entry for a later delivery. */
  retry(item: T): void;
  /** Acks the entries the handler finished. */
  ack(items: T[]): Promise<void>;
  /** Stores the dead letter and acks the entry; false when it could not (the entry is then retried). */
  storeDeadLetter(item: T, letter: Envelope): Promise<boolean>;
}

/**
 * One batch through the policy, the same for every backend: screen, hand the rest to the handler
 * (runBatchHandler), then ack, retry or dead-letter each entry as `settle` says.
 */
export async function deliverBatch<T>(
  items: readonly T[],
  handler: BatchHandler,
  backend: DeliveryBackend<T>,
): Promise<void> {
  const good: Array<{ item: T; delivery: Delivery }> = [];
  for (const item of items) {
    const entry = backend.read(item);
    const verdict = screen(entry, backend.limits);
    if (verdict.action === 'dead-letter') {
      const original = entry.ok ? { envelope: entry.envelope } : { fields: entry.fields };
      await deadLetter(backend, item, entry.id, verdict, original);
    } else if (entry.ok) {
      good.push({
        item,
        delivery: { id: entry.id, channel: backend.channel, envelope: entry.envelope, deliveries: entry.deliveries },
      });
    }
  }
  if (good.length === 0) {
    return;
  }
  const failures = await runBatchHandler(
    handler,
    good.map(({ delivery }) => delivery),
  );
  const acks: T[] = [];
  for (const { item, delivery } of good) {
    const failure = failures.get(delivery.id);
    const failed = failure && !failure.deadLetter ? await backend.countFailure(item, delivery) : 0;
    const verdict = settle(delivery, failure, failed, backend.limits);
    if (verdict.action === 'ack') {
      acks.push(item);
    } else if (verdict.action === 'dead-letter') {
      await deadLetter(backend, item, delivery.id, verdict, { envelope: delivery.envelope });
    } else if (verdict.action === 'retry') {
      backend.retry(item);
      backend.logger.warn('handler failed, entry will be retried', {
        channel: backend.channel,
        group: backend.group,
        id: delivery.id,
        deliveries: delivery.deliveries,
        failures: verdict.failures,
        error: errorMessage(failure?.error),
      });
    }
  }
  if (acks.length > 0) {
    await backend.ack(acks);
  }
}

async function deadLetter<T>(
  backend: DeliveryBackend<T>,
  item: T,
  id: string,
  verdict: Extract<Verdict, { action: 'dead-letter' }>,
  original: { envelope?: Envelope; fields?: readonly string[] | null },
): Promise<void> {
  const letter = deadLetterEnvelope({
    channel: backend.channel,
    deadLetterChannel: backend.deadLetterChannel,
    id,
    group: backend.group,
    consumer: backend.consumer,
    deliveries: verdict.deliveries,
    error: verdict.error,
    original,
  });
  if (await backend.storeDeadLetter(item, letter)) {
    backend.logger.error('entry dead-lettered', {
      channel: backend.channel,
      group: backend.group,
      id,
      deliveries: verdict.deliveries,
      deadLetterChannel: backend.deadLetterChannel,
      error: errorMessage(verdict.error),
    });
  }
}
