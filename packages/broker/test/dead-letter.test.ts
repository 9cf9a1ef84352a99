import { waitFor } from '@mupets/testkit';
import type { Delivery, StreamEntry } from '@mupets/broker';
import { backends, brokerPerFile, message } from './helpers';

describe.each(backends)('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);

  async function deadLetters(channel: string, count: number): Promise<StreamEntry[]> {
    const tail = file.broker.tail(file.broker.deadLetterChannel(channel), { fromId: '0', blockMs: 100 });
    const out: StreamEntry[] = [];
    for await (const entry of tail) {
      out.push(entry);
      if (out.length === count) {
        break;
      }
    }
    return out;
  }

  test('a handler that always throws on one entry: it is dead-lettered after maxDeliveries with the error, later entries keep flowing', async () => {
    const ids = await file.broker.publish('orders', [message(1), message(2, { type: 'poison' }), message(3)]);
    const attempts = new Map<string, number>();
    const handled: Delivery[] = [];
    const consumer = file.broker.consume(
      'orders',
      'billing',
      (batch) => {
        for (const delivery of batch) {
          attempts.set(delivery.id, (attempts.get(delivery.id) ?? 0) + 1);
          if (delivery.envelope.type === 'poison') {
            throw new Error('cannot bill a poison order');
          }
        }
        handled.push(...batch);
      },
      { batchSize: 10, blockMs: 50, minIdleMs: 100, reclaimIntervalMs: 50, maxDeliveries: 3 },
    );
    const [dead] = await deadLetters('orders', 1);
    const later = await file.broker.publish('orders', message(4));
    await waitFor(() => handled.some((d) => d.id === later), { what: 'an entry published after the poison one' });
    await consumer.stop();

    expect(dead!.envelope).toMatchObject({
      channel: 'orders.dead',
      type: 'dead-letter',
      level: 'error',
      message: 'cannot bill a poison order',
      source: { service: 'billing' },
      data: {
        originalChannel: 'orders',
        originalId: ids[1],
        group: 'billing',
        deliveries: 3,
        error: { name: 'Error', message: 'cannot bill a poison order' },
        envelope: { type: 'poison', data: { i: 2 } },
      },
    });
    // 3 deliveries of the poison entry (the batch attempts count per delivery, once each)
    expect(handled.map((d) => d.id).sort()).toEqual([ids[0], ids[2], later].sort());
    const stats = await file.broker.stats('orders');
    expect(stats.groups[0]).toMatchObject({ pending: 0, lag: 0 });
  });

  test('an entry that is not a valid envelope is dead-lettered at once with its reason; the others are handled', async () => {
    const good1 = await file.broker.publish('raw', message(1));
    const bad = await backend.writeRaw(file.address, file.prefix, 'raw', JSON.stringify({ type: 'x', v: 1 }));
    const notJson = await backend.writeRaw(file.address, file.prefix, 'raw', '{nope');
    const good2 = await file.broker.publish('raw', message(2));
    const handled: string[] = [];
    const consumer = file.broker.consume('raw', 'archiver', (batch) => void handled.push(...batch.map((d) => d.id)), {
      blockMs: 50,
    });
    const dead = await deadLetters('raw', 2);
    await waitFor(() => handled.length === 2, { what: 'valid entries handled' });
    await consumer.stop();
    expect(handled).toEqual([good1, good2]);
    expect(dead.map((entry) => entry.envelope.data?.originalId)).toEqual([bad, notJson]);
    expect(dead[0]!.envelope.message).toMatch(/source: .*\[required\]/);
    expect(dead[0]!.envelope.data).toMatchObject({
      deliveries: 1,
      rawFields: backend.rawFields('{"type":"x","v":1}'),
    });
    expect(dead[1]!.envelope.message).toMatch(/not valid JSON/);
  });

  test('a batch handler can fail single entries; a permanent failure is dead-lettered without retries', async () => {
    const ids = await file.broker.publish('mixed', [message(1), message(2), message(3)]);
    const calls: string[][] = [];
    const consumer = file.broker.consume(
      'mixed',
      'writer',
      (batch) => {
        calls.push(batch.map((d) => d.id));
        return { failed: [{ id: ids[1]!, error: new Error('rejected by the store'), deadLetter: true }] };
      },
      { blockMs: 50, maxDeliveries: 5 },
    );
    const [dead] = await deadLetters('mixed', 1);
    await waitFor(async () => (await file.broker.stats('mixed')).groups[0]?.pending === 0, { what: 'all acked' });
    await consumer.stop();
    expect(calls).toEqual([ids]);
    expect(dead!.envelope.data).toMatchObject({ originalId: ids[1], deliveries: 1 });
  });
});
