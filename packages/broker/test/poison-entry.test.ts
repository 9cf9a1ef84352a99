// A poison entry from a foreign producer: JSON nested thousands of levels deep parses, but every
// JSON.stringify of it throws. It must neither reach a handler or a live view nor stop the
// pipeline: it is dead-lettered at once, naming the rule (issue 14, item 8).
import { waitFor } from '@mupets/testkit';
import { EnvelopeValidationError, MAX_DATA_DEPTH, type StreamEntry } from '@mupets/broker';
import { backends, brokerPerFile, message } from './helpers';

/** An envelope whose `data` nests `levels` objects deep, as a foreign producer would write it. */
function deepEnvelopeJson(levels: number): string {
  const data = `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  return `{"id":"deep-${levels}","channel":"orders","type":"deep","ts":"2026-01-01T00:00:00.000Z","source":{"service":"foreign"},"v":1,"data":${data}}`;
}

/** `{ a: { a: ... 1 } }`, `levels` objects deep. */
function nested(levels: number): Record<string, unknown> {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) {
    value = { a: value };
  }
  return value as Record<string, unknown>;
}

describe.each(backends)('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);

  test('data nested ~4200 levels deep: dead-lettered at once naming data and max_depth, never handed to a handler or a tail; the rest flows', async () => {
    const good1 = await file.broker.publish('orders', message(1));
    const poison = await backend.writeRaw(file.address, file.prefix, 'orders', deepEnvelopeJson(4200));
    const good2 = await file.broker.publish('orders', message(2));

    const handled: string[] = [];
    const consumer = file.broker.consume(
      'orders',
      'archiver',
      (batch) => {
        // what a real handler does with what it is given (the archiver stores data as JSON)
        JSON.stringify(batch.map((delivery) => delivery.envelope));
        handled.push(...batch.map((delivery) => delivery.id));
      },
      { blockMs: 50, minIdleMs: 100, reclaimIntervalMs: 50, maxDeliveries: 2 },
    );
    const dead: StreamEntry[] = [];
    const deadTail = file.broker.tail(file.broker.deadLetterChannel('orders'), { fromId: '0', blockMs: 100 });
    for await (const entry of deadTail) {
      dead.push(entry);
      break;
    }
    await waitFor(() => handled.length === 2, { what: 'the valid entries handled' });
    await waitFor(async () => (await file.broker.stats('orders')).groups[0]?.pending === 0, {
      what: 'nothing left pending',
    });
    await consumer.stop();

    expect(handled).toEqual([good1, good2]);
    expect(dead[0]!.envelope.data).toMatchObject({ originalId: poison, deliveries: 1 });
    expect(dead[0]!.envelope.message).toMatch(/^invalid envelope: data: .*\[max_depth\]/);
    // the dead letter itself is ordinary JSON: it keeps the raw entry as text
    expect(() => JSON.stringify(dead[0]!.envelope)).not.toThrow();

    // the live view's tail skips it too
    const live: string[] = [];
    for await (const entry of file.broker.tail('orders', { fromId: '0', blockMs: 100 })) {
      live.push(entry.id);
      if (entry.id === good2) {
        break;
      }
    }
    expect(live).toEqual([good1, good2]);
  });

  test(`publish refuses data nested deeper than ${MAX_DATA_DEPTH} levels, naming data and the rule; at the bound it is stored`, async () => {
    const refused = file.broker.publish('deep', message(1, { data: nested(MAX_DATA_DEPTH + 1) }));
    await expect(refused).rejects.toBeInstanceOf(EnvelopeValidationError);
    await expect(refused).rejects.toMatchObject({ issues: [{ path: 'data', rule: 'max_depth' }] });
    const [id] = await file.broker.publish('deep', [message(2, { data: nested(MAX_DATA_DEPTH) })]);
    const stored = await backend.read(file.address, file.prefix, 'deep');
    expect(stored.map((entry) => entry.id)).toEqual([id]);
  });
});
