import { buildEnvelope, type Envelope } from './envelope.schema';
import {
  deliverBatch,
  screen,
  settle,
  type DeliveryBackend,
  type PolicyLimits,
  type ReadEntry,
} from './delivery-policy';
import type { BrokerLogger } from './logger';
import type { BatchHandler } from './types';

const redis: PolicyLimits = { maxDeliveries: 3, deliveriesMeanFailures: false };
const kafka: PolicyLimits = { maxDeliveries: 3, deliveriesMeanFailures: true };
const envelope = buildEnvelope('logs', { type: 't', source: { service: 's' } });
const good = (id: string, deliveries = 1): ReadEntry => ({ ok: true, id, deliveries, envelope });
const bad = (id: string): ReadEntry => ({ ok: false, id, deliveries: 1, fields: ['x', 'y'], error: new Error('no e') });

describe('screen', () => {
  it('dead-letters an entry that is not an envelope, with its parse error', () => {
    const error = new Error('no e');
    expect(screen({ ok: false, id: '1-0', deliveries: 2, fields: null, error }, redis)).toEqual({
      action: 'dead-letter',
      deliveries: 2,
      error,
    });
  });

  it('delivers up to maxDeliveries; beyond, dead-letters only where deliveries mean failures', () => {
    expect(screen(good('a', 3), kafka)).toEqual({ action: 'deliver' });
    const verdict = screen(good('a', 4), kafka);
    expect(verdict).toMatchObject({ action: 'dead-letter', deliveries: 3 });
    expect(verdict.action === 'dead-letter' && (verdict.error as Error).message).toBe(
      'delivered 3 times without an ack (consumer crashed or stalled each time)',
    );
    // on Redis a takeover from a slow live consumer is a delivery too: not a reason to give up
    expect(screen(good('a', 40), redis)).toEqual({ action: 'deliver' });
  });
});

describe('settle', () => {
  const error = new Error('boom');

  it('acks what did not fail', () => {
    expect(settle({ deliveries: 9 }, undefined, 0, redis)).toEqual({ action: 'ack' });
  });

  it('retries a failure below maxDeliveries, dead-letters the maxDeliveries-th', () => {
    expect(settle({ deliveries: 1 }, { id: 'a', error }, 2, redis)).toEqual({ action: 'retry', failures: 2 });
    expect(settle({ deliveries: 7 }, { id: 'a', error }, 3, redis)).toEqual({
      action: 'dead-letter',
      deliveries: 3,
      error,
    });
  });

  it('dead-letters a failure marked permanent at once, reporting its deliveries', () => {
    expect(settle({ deliveries: 1 }, { id: 'a', error, deadLetter: true }, 0, kafka)).toEqual({
      action: 'dead-letter',
      deliveries: 1,
      error,
    });
  });
});

/** A backend that records what the policy asked of it. */
function fakeBackend(options: { storeFails?: boolean } = {}) {
  const calls = {
    acked: [] as string[][],
    retried: [] as string[],
    counted: [] as string[],
    letters: [] as Envelope[],
    logs: [] as Array<[string, string, Record<string, unknown> | undefined]>,
  };
  const failures = new Map<string, number>();
  const log =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void => {
      calls.logs.push([level, message, meta]);
    };
  const logger: BrokerLogger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  const backend: DeliveryBackend<ReadEntry> = {
    channel: 'logs',
    deadLetterChannel: 'logs.dead',
    group: 'g',
    consumer: 'c1',
    logger,
    limits: redis,
    read: (item) => item,
    countFailure: (item) => {
      calls.counted.push(item.id);
      const n = (failures.get(item.id) ?? 0) + 1;
      failures.set(item.id, n);
      return n;
    },
    retry: (item) => void calls.retried.push(item.id),
    ack: (items) => {
      calls.acked.push(items.map((item) => item.id));
      return Promise.resolve();
    },
    storeDeadLetter: (_item, letter) => {
      if (!options.storeFails) {
        calls.letters.push(letter);
      }
      return Promise.resolve(!options.storeFails);
    },
  };
  return { backend, calls, failures };
}

describe('deliverBatch', () => {
  it('dead-letters a bad entry before the handler, hands the rest over, acks them in one call', async () => {
    const { backend, calls } = fakeBackend();
    const seen: string[] = [];
    const handler: BatchHandler = (batch) => void seen.push(...batch.map((d) => d.id));
    await deliverBatch([good('1'), bad('2'), good('3')], handler, backend);
    expect(seen).toEqual(['1', '3']);
    expect(calls.acked).toEqual([['1', '3']]);
    expect(calls.letters).toHaveLength(1);
    expect(calls.letters[0]).toMatchObject({
      id: 'logs:2:g',
      channel: 'logs.dead',
      type: 'dead-letter',
      data: { originalId: '2', group: 'g', deliveries: 1, rawFields: ['x', 'y'] },
    });
    expect(calls.logs.filter(([level]) => level === 'error').map(([, message]) => message)).toEqual([
      'entry dead-lettered',
    ]);
  });

  it('a batch that throws is run entry by entry: only the poison one is retried, then dead-lettered', async () => {
    const { backend, calls } = fakeBackend();
    const handler: BatchHandler = (batch) => {
      if (batch.some((d) => d.id === 'p')) {
        throw new Error('poison');
      }
    };
    for (let round = 1; round <= 3; round++) {
      await deliverBatch([good('a'), good('p', round), good('b')], handler, backend);
    }
    expect(calls.acked).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(calls.retried).toEqual(['p', 'p']);
    expect(calls.counted).toEqual(['p', 'p', 'p']);
    expect(calls.logs.filter(([, message]) => message === 'handler failed, entry will be retried')).toEqual([
      ['warn', 'handler failed, entry will be retried', expect.objectContaining({ id: 'p', failures: 1 })],
      ['warn', 'handler failed, entry will be retried', expect.objectContaining({ id: 'p', failures: 2 })],
    ]);
    expect(calls.letters.map((letter) => [letter.id, letter.message, letter.data?.deliveries])).toEqual([
      ['logs:p:g', 'poison', 3],
    ]);
  });

  it('a permanent failure is not counted, and is dead-lettered with its envelope', async () => {
    const { backend, calls } = fakeBackend();
    await deliverBatch([good('a', 2)], () => ({ failed: [{ id: 'a', error: 'nope', deadLetter: true }] }), backend);
    expect(calls.counted).toEqual([]);
    expect(calls.acked).toEqual([]);
    expect(calls.letters[0]?.data).toMatchObject({ deliveries: 2, envelope });
  });

  it('says "dead-lettered" only when the backend stored the letter', async () => {
    const { backend, calls } = fakeBackend({ storeFails: true });
    await deliverBatch([bad('x')], () => undefined, backend);
    expect(calls.logs).toEqual([]);
  });
});
