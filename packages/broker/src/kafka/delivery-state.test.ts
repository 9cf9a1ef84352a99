import { decodeDeliveryState, encodeDeliveryState } from './delivery-state';

test('the delivery state survives the round trip through commit metadata', () => {
  const state = {
    deliveredUpTo: 120n,
    counts: new Map([
      [101n, 2],
      [105n, 4],
    ]),
    oldestPendingTs: 1_700_000_000_000,
    lastDeliveredTs: 1_700_000_000_500,
  };
  const text = encodeDeliveryState(state);
  expect(text).toBe('{"v":1,"u":"120","o":1700000000000,"l":1700000000500,"c":{"101":2,"105":4}}');
  expect(decodeDeliveryState(text)).toEqual(state);
});

test('counts of one are implied, not written', () => {
  const text = encodeDeliveryState({ deliveredUpTo: 3n, counts: new Map([[1n, 1]]) });
  expect(text).toBe('{"v":1,"u":"3"}');
  expect(decodeDeliveryState(text)).toEqual({ deliveredUpTo: 3n, counts: new Map() });
});

test('it stays under Kafka metadata limit: the counts of the highest offsets are left out first', () => {
  const counts = new Map(Array.from({ length: 1000 }, (_, i) => [BigInt(1_000_000_000 + i), 3] as const));
  const text = encodeDeliveryState({ deliveredUpTo: 2_000_000_000n, counts });
  expect(text.length).toBeLessThanOrEqual(3000);
  const kept = decodeDeliveryState(text)!.counts;
  expect(kept.size).toBeGreaterThan(50);
  expect([...kept.keys()]).toEqual([...counts.keys()].slice(0, kept.size));
});

test('metadata written by anything else reads as no state', () => {
  for (const other of [null, undefined, '', 'hello', '{"u":"3"}', '{"v":2,"u":"3"}', '{"v":1,"u":"x"}', '[]']) {
    expect(decodeDeliveryState(other)).toBeUndefined();
  }
});
