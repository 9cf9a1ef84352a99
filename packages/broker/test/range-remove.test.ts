import { backends, brokerPerFile, message } from './helpers';

describe.each(backends)('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);

  test('range reads stored entries oldest first or newest first, bounded by ids (inclusive) and count', async () => {
    const ids = await file.broker.publish('ranged', [message(0), message(1), message(2), message(3), message(4)]);
    const all = await file.broker.range('ranged');
    expect(all.map((entry) => entry.id)).toEqual(ids);
    expect(all.map((entry) => entry.envelope.data)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(all[0]).toMatchObject({ channel: 'ranged', envelope: { channel: 'ranged', type: 'test.event' } });

    const newest = await file.broker.range('ranged', { reverse: true, count: 2 });
    expect(newest.map((entry) => entry.id)).toEqual([ids[4], ids[3]]);
    const middle = await file.broker.range('ranged', { start: ids[1], end: ids[3] });
    expect(middle.map((entry) => entry.id)).toEqual([ids[1], ids[2], ids[3]]);
    const one = await file.broker.range('ranged', { start: ids[2], end: ids[2], count: 1 });
    expect(one.map((entry) => entry.id)).toEqual([ids[2]]);
    const firstTwo = await file.broker.range('ranged', { count: 2 });
    expect(firstTwo.map((entry) => entry.id)).toEqual([ids[0], ids[1]]);
  });

  test('range of a channel never written is empty; bad options are rejected naming the option', async () => {
    await expect(file.broker.range('never-written')).resolves.toEqual([]);
    await expect(file.broker.range('ranged', { count: 0 })).rejects.toThrow(/count/);
    await expect(file.broker.range('ranged', { start: "' OR 1=1 --" })).rejects.toThrow(/start/);
    await expect(file.broker.range('Bad Channel')).rejects.toThrow(/channel/);
  });

  test('remove deletes single entries on Redis; Kafka cannot and deletes nothing', async () => {
    const ids = await file.broker.publish('removable', [message(0), message(1), message(2)]);
    const removed = await file.broker.remove('removable', [ids[1]!]);
    const left = (await backend.read(file.address, file.prefix, 'removable')).map((entry) => entry.id);
    if (backend.name === 'redis') {
      expect(removed).toBe(1);
      expect(left).toEqual([ids[0], ids[2]]);
      await expect(file.broker.remove('removable', [ids[1]!])).resolves.toBe(0);
    } else {
      expect(removed).toBe(0);
      expect(left).toEqual(ids);
    }
    await expect(file.broker.remove('removable', ['nope'])).rejects.toThrow(/not an entry id/);
  });
});
