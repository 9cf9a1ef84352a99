import { waitFor } from '@mupets/testkit';
import { backends, brokerPerFile, message } from './helpers';

describe.each(backends)('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);
  const stored = async (channel: string): Promise<string[]> =>
    (await backend.read(file.address, file.prefix, channel)).map((e) => e.id);

  test('trimming with a slow group never removes entries it has not acked', async () => {
    const ids = await file.broker.publish(
      'trim-slow',
      Array.from({ length: 1000 }, (_, i) => message(i)),
    );
    // fast group acks everything; slow group acks 300, is busy with the next 100, has not read the rest
    const fast = file.broker.consume('trim-slow', 'fast', () => undefined, { blockMs: 50, batchSize: 500 });
    let slowBatches = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = file.broker.consume(
      'trim-slow',
      'slow',
      async () => {
        slowBatches++;
        if (slowBatches > 3) {
          await released;
          throw new Error('gave up');
        }
      },
      { blockMs: 50, batchSize: 100, minIdleMs: 600_000 },
    );
    try {
      await waitFor(
        async () => {
          const stats = await file.broker.stats('trim-slow');
          const byName = Object.fromEntries(stats.groups.map((g) => [g.name, g]));
          return byName.fast?.lag === 0 && byName.fast.pending === 0 && byName.slow?.pending === 100;
        },
        { timeoutMs: 30_000, what: 'fast group done, slow group stuck with 100 pending' },
      );
      await fast.stop();

      const result = await file.broker.trim('trim-slow', { maxLen: 10 });
      expect(result).toEqual({ removed: 300, heldBackByGroup: true, heldBy: ['slow'] });
      // the slow group's oldest pending entry (its 301st) is the first one kept
      expect(await stored('trim-slow')).toEqual(ids.slice(300));

      const byAge = await file.broker.trim('trim-slow', { maxAgeMs: 0 });
      expect(byAge).toEqual({ removed: 0, heldBackByGroup: true, heldBy: ['slow'] });
    } finally {
      release();
      await slow.stop();
    }
  });

  test('with every group caught up, trimming reaches its target, by length and by age', async () => {
    const ids = await file.broker.publish(
      'trim-done',
      Array.from({ length: 500 }, (_, i) => message(i)),
    );
    const consumer = file.broker.consume('trim-done', 'all', () => undefined, { blockMs: 50, batchSize: 500 });
    await waitFor(async () => (await file.broker.stats('trim-done')).groups[0]?.lag === 0, {
      what: 'group caught up',
    });
    await consumer.stop();

    expect(await file.broker.trim('trim-done', { maxLen: 120 })).toEqual({
      removed: 380,
      heldBackByGroup: false,
      heldBy: [],
    });
    expect(await stored('trim-done')).toEqual(ids.slice(380));
    expect(await file.broker.trim('trim-done', { maxAgeMs: 0 })).toEqual({
      removed: 120,
      heldBackByGroup: false,
      heldBy: [],
    });
    expect((await file.broker.stats('trim-done')).length).toBe(0);
  });

  test('entries a group has not read yet are never trimmed', async () => {
    const ids = await file.broker.publish(
      'trim-unread',
      Array.from({ length: 50 }, (_, i) => message(i)),
    );
    const consumer = file.broker.consume('trim-unread', 'late', () => undefined, { blockMs: 50, startId: '$' });
    // the group exists from "$": nothing to read, nothing pending, last delivered = the newest entry
    await waitFor(async () => (await file.broker.stats('trim-unread')).groups.length === 1, {
      what: 'group created',
    });
    await consumer.stop();
    const more = await file.broker.publish('trim-unread', [message(50), message(51)]);
    const result = await file.broker.trim('trim-unread', { maxLen: 0 });
    expect(result.removed).toBe(50);
    expect(result.heldBackByGroup).toBe(true);
    expect(result.heldBy).toEqual(['late']);
    expect(await stored('trim-unread')).toEqual(more);
    expect(ids).toHaveLength(50);
  });

  test('a retired group is removed and trimming then passes it; a group in use or unknown is not removed', async () => {
    // "retired": a group whose service is gone, created before the entries it never read
    const retired = file.broker.consume('trim-retired', 'retired', () => undefined, { blockMs: 50, startId: '$' });
    await waitFor(async () => (await file.broker.stats('trim-retired')).groups.length === 1, {
      what: 'retired group created',
    });
    await retired.stop();
    await file.broker.publish(
      'trim-retired',
      Array.from({ length: 100 }, (_, i) => message(i)),
    );
    const busy = file.broker.consume('trim-retired', 'busy', () => undefined, { blockMs: 50, startId: '0' });
    try {
      await waitFor(
        async () => {
          const stats = await file.broker.stats('trim-retired');
          const group = stats.groups.find((g) => g.name === 'busy');
          return group?.lag === 0 && group.pending === 0;
        },
        { what: 'busy group caught up' },
      );
      expect(await file.broker.trim('trim-retired', { maxLen: 0 })).toMatchObject({ removed: 0, heldBy: ['retired'] });

      expect(await file.broker.removeGroup('trim-retired', 'busy', { activeWithinMs: 60_000 })).toBe('in_use');
      expect(await file.broker.removeGroup('trim-retired', 'never-was')).toBe('not_found');
      // the retired group's consumer stopped: idle past the window given (Kafka: no member left)
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await file.broker.removeGroup('trim-retired', 'retired', { activeWithinMs: 200 })).toBe('removed');

      expect((await file.broker.stats('trim-retired')).groups.map((g) => g.name)).toEqual(['busy']);
      expect(await file.broker.trim('trim-retired', { maxLen: 0 })).toEqual({
        removed: 100,
        heldBackByGroup: false,
        heldBy: [],
      });
    } finally {
      await busy.stop();
    }
  });
});
