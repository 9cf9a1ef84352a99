import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from '@mupets/testkit';
import type { Broker, StreamEntry } from '@mupets/broker';
import { backends, brokerPerFile, message } from './helpers';

async function replayed(broker: Broker, channel: string, group: string, windowMs: number, count?: number) {
  const pages: StreamEntry[][] = [];
  for await (const page of broker.replay(channel, group, { windowMs, ...(count === undefined ? {} : { count }) })) {
    pages.push(page);
  }
  return pages;
}

describe.each(backends)('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);

  test('replay gives what a group consumed in the window before its position, by publish time, in pages', async () => {
    const channel = 'replay-a';
    const older = await file.broker.publish(
      channel,
      [0, 1, 2].map((i) => message(i)),
    );
    // the window is measured between publish times: these are 2 s apart, the window below is 1 s
    await sleep(2000);
    const newer = await file.broker.publish(
      channel,
      [3, 4, 5, 6, 7].map((i) => message(i)),
    );
    let consumed = 0;
    const consumer = file.broker.consume(channel, 'replay-group', (batch) => void (consumed += batch.length), {
      blockMs: 100,
    });
    await waitFor(
      async () => {
        const group = (await file.broker.stats(channel)).groups.find((g) => g.name === 'replay-group');
        return consumed === 8 && group?.pending === 0;
      },
      { timeoutMs: 30_000, what: 'all 8 consumed and acked' },
    );
    await consumer.stop();

    const recent = await replayed(file.broker, channel, 'replay-group', 1000, 2);
    expect(recent.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(recent.flat().map((entry) => entry.id)).toEqual(newer);
    expect(recent.flat().map((entry) => (entry.envelope.data as { i: number }).i)).toEqual([3, 4, 5, 6, 7]);
    expect(recent.flat().every((entry) => entry.channel === channel)).toBe(true);

    const all = await replayed(file.broker, channel, 'replay-group', 60_000);
    expect(all.flat().map((entry) => entry.id)).toEqual([...older, ...newer]);
    // a window of 0: the group's newest entry and those published in the same millisecond
    expect((await replayed(file.broker, channel, 'replay-group', 0)).flat().map((e) => e.id)).toContain(newer.at(-1));
  });

  test('replay of a group that never consumed, or a channel that does not exist, gives nothing', async () => {
    await file.broker.publish('replay-b', message(1));
    expect(await replayed(file.broker, 'replay-b', 'nobody', 60_000)).toEqual([]);
    expect(await replayed(file.broker, 'replay-none', 'nobody', 60_000)).toEqual([]);
  });

  test('replay refuses bad options, naming them', async () => {
    await expect(replayed(file.broker, 'replay-b', 'g', -1)).rejects.toThrow(/windowMs must be an integer >= 0/);
    await expect(replayed(file.broker, 'replay-b', 'g', 10, 0)).rejects.toThrow(/count must be an integer from 1/);
    await expect(replayed(file.broker, 'Bad Channel', 'g', 10)).rejects.toThrow(/channel/);
  });
});
