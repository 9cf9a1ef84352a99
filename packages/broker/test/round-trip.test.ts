import { waitFor } from '@mupets/testkit';
import type { Delivery } from '@mupets/broker';
import { backends, brokerPerFile, message } from './helpers';

describe.each(backends)('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);

  test('10k messages published in batches are consumed once each, in order per channel', async () => {
    const total = 10_000;
    const channels = ['rt-a', 'rt-b'];
    const published = new Map<string, string[]>(channels.map((c) => [c, []]));
    for (let start = 0; start < total; start += 500) {
      const channel = channels[(start / 500) % 2]!;
      const batch = Array.from({ length: 500 }, (_, k) => message(start + k));
      const ids = await file.broker.publish(channel, batch);
      expect(ids).toHaveLength(500);
      published.get(channel)!.push(...ids);
    }

    const seen = new Map<string, Delivery[]>(channels.map((c) => [c, []]));
    const consumers = channels.map((channel) =>
      file.broker.consume(
        channel,
        'rt-group',
        (batch) => {
          seen.get(channel)!.push(...batch);
        },
        { batchSize: 250, blockMs: 100 },
      ),
    );
    await waitFor(() => channels.every((c) => seen.get(c)!.length >= published.get(c)!.length), {
      timeoutMs: 60_000,
      what: 'all messages consumed',
    });
    await Promise.all(consumers.map((consumer) => consumer.stop()));

    for (const channel of channels) {
      const deliveries = seen.get(channel)!;
      // exactly once, and in publish order
      expect(deliveries.map((d) => d.id)).toEqual(published.get(channel));
      const numbers = deliveries.map((d) => (d.envelope.data as { i: number }).i);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(deliveries.every((d) => d.channel === channel && d.deliveries === 1)).toBe(true);
      const stats = await file.broker.stats(channel);
      expect(stats.length).toBe(5000);
      expect(stats.groups).toEqual([
        expect.objectContaining({
          name: 'rt-group',
          pending: 0,
          lag: 0,
          lastDeliveredId: published.get(channel)!.at(-1),
        }),
      ]);
    }
    expect(new Set([...seen.values()].flat().map((d) => d.envelope.id)).size).toBe(total);
  });

  test('a published envelope is stored complete: id, ts, channel, v filled in; unknown fields kept in data', async () => {
    const id = await file.broker.publish('rt-fields', {
      type: 'user.signup',
      source: { service: 'web', instance: 'web-1', host: 'h1' },
      level: 'info',
      message: 'hello',
      data: { user: 42 },
      region: 'eu',
    });
    const [stored] = await backend.read(file.address, file.prefix, 'rt-fields');
    expect(stored!.id).toBe(id);
    expect(stored!.envelope).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      channel: 'rt-fields',
      type: 'user.signup',
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      source: { service: 'web', instance: 'web-1', host: 'h1' },
      level: 'info',
      message: 'hello',
      data: { user: 42, region: 'eu' },
      v: 1,
    });
  });

  test('tail follows new entries from "$" and resumes from a given id without gap or repeat', async () => {
    await file.broker.publish('rt-tail', message(0));
    const tail = file.broker.tail('rt-tail', { blockMs: 100 });
    const first = tail.next();
    const ids = await file.broker.publish('rt-tail', [message(1), message(2), message(3)]);
    const got = [(await first).value, (await tail.next()).value, (await tail.next()).value];
    expect(got.map((entry) => entry?.id)).toEqual(ids);
    await tail.close();
    expect((await tail.next()).done).toBe(true);

    const resumed = file.broker.tail('rt-tail', { fromId: ids[0], blockMs: 100 });
    const after: string[] = [];
    for await (const entry of resumed) {
      after.push(entry.id);
      if (after.length === 2) {
        break;
      }
    }
    expect(after).toEqual(ids.slice(1));
  });

  test('stats report length, pending, lag and the oldest pending age of each group', async () => {
    const ids = await file.broker.publish('rt-stats', [message(1), message(2), message(3), message(4)]);
    let calls = 0;
    const consumer = file.broker.consume(
      'rt-stats',
      'slow',
      () => {
        calls++;
        throw new Error('not yet');
      },
      { batchSize: 2, blockMs: 50, minIdleMs: 60_000, maxDeliveries: 3 },
    );
    await waitFor(() => calls >= 3, { what: 'first batch handled' });
    const running = await file.broker.stats('rt-stats');
    expect(running.groups).toEqual([expect.objectContaining({ name: 'slow', consumers: 1 })]);
    await consumer.stop();
    const stats = await file.broker.stats('rt-stats');
    expect(stats).toMatchObject({ channel: 'rt-stats', length: 4, firstId: ids[0], lastId: ids[3] });
    const [group] = stats.groups;
    // a Redis group keeps a stopped consumer's name (until XGROUP DELCONSUMER); a Kafka member leaves
    expect(group).toMatchObject({ name: 'slow', consumers: backend.name === 'redis' ? 1 : 0, oldestPendingId: ids[0] });
    // read 2 entries at least once (failed, so still pending); 2 not delivered yet
    expect(group!.pending).toBeGreaterThanOrEqual(2);
    expect(group!.lag).toBe(4 - group!.pending);
    expect(group!.oldestPendingAgeMs).toBeGreaterThanOrEqual(0);
    if (backend.name === 'kafka') {
      // nothing acked: the commit point is still the first offset of the one partition
      expect(group!.partitions).toEqual([
        { partition: 0, committedOffset: 0, endOffset: 4, pending: group!.pending, lag: group!.lag },
      ]);
    } else {
      expect(group!.partitions).toBeUndefined();
    }

    const empty = await file.broker.stats('rt-never-used');
    expect(empty).toEqual({ channel: 'rt-never-used', length: 0, firstId: null, lastId: null, groups: [] });
  });

  test('stop() lets the batch in flight finish and be acked, and reads nothing more', async () => {
    await file.broker.publish('rt-stop', [message(1), message(2)]);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    let finished = false;
    const consumer = file.broker.consume(
      'rt-stop',
      'stopper',
      async () => {
        entered = true;
        await released;
        finished = true;
      },
      { blockMs: 50 },
    );
    await waitFor(() => entered, { what: 'handler entered' });
    const stopping = consumer.stop();
    await file.broker.publish('rt-stop', message(3));
    release();
    await stopping;
    expect(finished).toBe(true);
    const [group] = (await file.broker.stats('rt-stop')).groups;
    expect(group).toMatchObject({ pending: 0, lag: 1 });
  });
});
