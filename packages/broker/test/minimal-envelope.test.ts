import { waitFor } from '@mupets/testkit';
import { entryEnvelopeId, type Delivery, type Envelope, type StreamEntry } from '@mupets/broker';
import { backends, brokerPerFile } from './helpers';
// a Redis id's time: these tests check the Redis wire format itself
import { streamIdTime } from '../src/redis/stream-id';

const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe.each(backends)('$name: a minimal envelope from a foreign producer', (backend) => {
  const file = brokerPerFile(__filename, backend);

  async function firstEntries(channel: string, count: number): Promise<StreamEntry[]> {
    const out: StreamEntry[] = [];
    for await (const entry of file.broker.tail(channel, { fromId: '0', blockMs: 100 })) {
      out.push(entry);
      if (out.length === count) {
        break;
      }
    }
    return out;
  }

  test('is completed on consume, tail and range, with one id for every reader and every redelivery', async () => {
    const before = Date.now();
    const minimal = await backend.writeRaw(
      file.address,
      file.prefix,
      'shop',
      JSON.stringify({ type: 'order.created', source: { service: 'py-shop' } }),
    );
    const withData = await backend.writeRaw(
      file.address,
      file.prefix,
      'shop',
      JSON.stringify({ type: 'order.paid', source: { service: 'py-shop' }, level: 'warn', data: { order: 1 } }),
    );
    const after = Date.now();

    // group "a" fails the first delivery of each entry: the redelivery must carry the same envelope id
    const seen = { a: [] as Delivery[], b: [] as Delivery[] };
    const options = { blockMs: 50, minIdleMs: 100, reclaimIntervalMs: 50, maxDeliveries: 5 };
    const a = file.broker.consume(
      'shop',
      'a',
      (batch) => {
        seen.a.push(...batch);
        const firsts = batch.filter((d) => d.deliveries === 1);
        return { failed: firsts.map((d) => ({ id: d.id, error: new Error('try again') })) };
      },
      options,
    );
    const b = file.broker.consume('shop', 'b', (batch) => void seen.b.push(...batch), options);
    await waitFor(() => seen.a.filter((d) => d.deliveries > 1).length === 2 && seen.b.length === 2, {
      timeoutMs: 60_000,
      what: 'both entries redelivered to group a and delivered to group b',
    });
    await Promise.all([a.stop(), b.stop()]);

    const stream = `${file.prefix}shop`;
    const expected = (brokerId: string, extra: Partial<Envelope>): Envelope =>
      expect.objectContaining({
        id: entryEnvelopeId(stream, brokerId),
        channel: 'shop',
        source: { service: 'py-shop' },
        v: 1,
        ...extra,
      }) as Envelope;
    const byId = (deliveries: Delivery[], brokerId: string): Envelope[] =>
      deliveries.filter((d) => d.id === brokerId).map((d) => d.envelope);

    for (const deliveries of [seen.a, seen.b]) {
      expect(byId(deliveries, minimal)[0]).toEqual(expected(minimal, { type: 'order.created' }));
      expect(byId(deliveries, withData)[0]).toEqual(
        expected(withData, { type: 'order.paid', level: 'warn', data: { order: 1 } }),
      );
    }
    const minimalCopies = [...byId(seen.a, minimal), ...byId(seen.b, minimal)];
    expect(minimalCopies.length).toBeGreaterThanOrEqual(3);
    expect(new Set(minimalCopies.map((e) => JSON.stringify(e))).size).toBe(1);
    const envelope = minimalCopies[0]!;
    expect(envelope.id).toMatch(UUID_V5);
    expect(envelope.id).not.toBe(byId(seen.b, withData)[0]!.id);

    // ts: Redis takes the stream id's milliseconds, Kafka the record timestamp (set when written)
    if (backend.name === 'redis') {
      expect(envelope.ts).toBe(new Date(streamIdTime(minimal)).toISOString());
    } else {
      expect(Date.parse(envelope.ts)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(envelope.ts)).toBeLessThanOrEqual(after);
    }

    // the live tail and range() (the admin's Live page and the archive's catch-up) see the same
    const tailed = await firstEntries('shop', 2);
    const ranged = await file.broker.range('shop');
    for (const entries of [tailed, ranged]) {
      expect(entries.map((e) => e.id)).toEqual([minimal, withData]);
      expect(entries[0]!.envelope).toEqual(envelope);
    }
  });

  test('an invalid entry is still dead-lettered, its reason naming the field', async () => {
    const good = await backend.writeRaw(
      file.address,
      file.prefix,
      'strict',
      JSON.stringify({ type: 't', source: { service: 's' } }),
    );
    const bad = [
      { value: { type: 't', source: { service: 's' }, v: 2 }, reason: /^invalid envelope: v: .*/ },
      { value: { type: 't', source: { service: 's' }, ts: 'yesterday' }, reason: /ts: .*\[format\]/ },
      { value: { type: 't', source: { service: 's' }, order: 1 }, reason: /"order".*\[unknown_key\]/ },
      { value: { type: 't', source: { service: 's' }, id: null }, reason: /id: .*\[type\]/ },
      { value: { type: 't', source: { service: '' } }, reason: /source\.service: .*\[min\]/ },
    ];
    const badIds: string[] = [];
    for (const { value } of bad) {
      badIds.push(await backend.writeRaw(file.address, file.prefix, 'strict', JSON.stringify(value)));
    }
    const handled: string[] = [];
    const consumer = file.broker.consume('strict', 'g', (batch) => void handled.push(...batch.map((d) => d.id)), {
      blockMs: 50,
    });
    const dead: StreamEntry[] = [];
    for await (const entry of file.broker.tail('strict.dead', { fromId: '0', blockMs: 100 })) {
      dead.push(entry);
      if (dead.length === bad.length) {
        break;
      }
    }
    await waitFor(() => handled.length === 1, { what: 'the valid minimal entry handled' });
    await consumer.stop();
    expect(handled).toEqual([good]);
    expect(dead.map((d) => d.envelope.data?.originalId)).toEqual(badIds);
    dead.forEach((d, i) => {
      expect(d.envelope.message).toMatch(bad[i]!.reason);
      expect(d.envelope.data).toMatchObject({
        deliveries: 1,
        rawFields: backend.rawFields(JSON.stringify(bad[i]!.value)),
      });
    });
  });
});
