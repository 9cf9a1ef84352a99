import { createLineCounter } from './line-counter';

const T1 = '2026-12-02T02:20:26.1Z';
const T1_LONG = '2026-12-02T02:20:26.100000000Z';
const T2 = '2026-12-02T02:20:26.2Z';

describe('createLineCounter', () => {
  it('ranks lines that share a stamp', () => {
    const counter = createLineCounter(undefined);
    expect([T1, T1, T2, T2, T2].map((ts) => counter.next(ts))).toEqual([
      { position: { ts: T1, n: 1 }, published: false },
      { position: { ts: T1, n: 2 }, published: false },
      { position: { ts: T2, n: 1 }, published: false },
      { position: { ts: T2, n: 2 }, published: false },
      { position: { ts: T2, n: 3 }, published: false },
    ]);
  });

  it('after a restart at the 2nd of three lines stamped alike, skips two and publishes the third', () => {
    const counter = createLineCounter({ ts: T2, n: 2 });
    expect([T2, T2, T2].map((ts) => counter.next(ts).published)).toEqual([true, true, false]);
  });

  it('skips earlier lines an engine with second-granularity since sends again, and compares stamps by value', () => {
    const counter = createLineCounter({ ts: T1_LONG, n: 1 });
    expect(counter.next('2026-12-02T02:20:26Z').published).toBe(true);
    expect(counter.next(T1).published).toBe(true);
    expect(counter.next(T1).published).toBe(false);
    expect(counter.next(T2).published).toBe(false);
  });
});
