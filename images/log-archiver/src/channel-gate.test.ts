import { ChannelGate } from './channel-gate';

const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ChannelGate', () => {
  it('runs writes side by side', async () => {
    const gate = new ChannelGate();
    let running = 0;
    let most = 0;
    const write = (): Promise<void> =>
      gate.write(async () => {
        most = Math.max(most, ++running);
        await tick();
        running--;
      });
    await Promise.all([write(), write(), write()]);
    expect(most).toBe(3);
  });

  it('starts a replay only after the writes in flight, and holds new writes until it is done', async () => {
    const gate = new ChannelGate();
    const events: string[] = [];
    const first = gate.write(async () => {
      events.push('write 1 start');
      await tick(20);
      events.push('write 1 end');
    });
    await tick(1);
    const replay = gate.exclusive(async () => {
      events.push('replay start');
      await tick(20);
      events.push('replay end');
    });
    await tick(1);
    const second = gate.write(() => {
      events.push('write 2');
      return Promise.resolve();
    });
    await Promise.all([first, replay, second]);
    expect(events).toEqual(['write 1 start', 'write 1 end', 'replay start', 'replay end', 'write 2']);
  });

  it('lets writes go on after a replay that failed', async () => {
    const gate = new ChannelGate();
    const replay = gate.exclusive(async () => {
      await tick(10);
      throw new Error('boom');
    });
    const waiting = gate.write(() => Promise.resolve(7));
    await expect(replay).rejects.toThrow('boom');
    await expect(waiting).resolves.toBe(7);
  });
});
