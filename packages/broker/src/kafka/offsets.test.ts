import { groupStatsOf, lengthCuts, trimPlan, type GroupOffsets } from './offsets';

const now = 1_700_000_010_000;

function group(
  name: string,
  committed: Array<[number, bigint, { u?: bigint; o?: number; l?: number }?]>,
): GroupOffsets {
  return {
    name,
    members: 1,
    committed: new Map(
      committed.map(([partition, offset, state]) => [
        partition,
        {
          offset,
          state: state
            ? {
                deliveredUpTo: state.u ?? offset,
                counts: new Map(),
                ...(state.o === undefined ? {} : { oldestPendingTs: state.o }),
                ...(state.l === undefined ? {} : { lastDeliveredTs: state.l }),
              }
            : undefined,
        },
      ]),
    ),
  };
}

describe('group stats from offsets', () => {
  test('pending is delivered and not acked, lag is not delivered yet; the oldest pending entry is named', () => {
    const stats = groupStatsOf(
      group('slow', [[0, 300n, { u: 400n, o: now - 2500, l: now - 100 }]]),
      [{ partition: 0, start: 0n, end: 1000n }],
      now,
    );
    expect(stats).toEqual({
      name: 'slow',
      consumers: 1,
      pending: 100,
      lag: 600,
      lastDeliveredId: '0-399',
      oldestPendingId: '0-300',
      oldestPendingAgeMs: 2500,
      partitions: [{ partition: 0, committedOffset: 300, endOffset: 1000, pending: 100, lag: 600 }],
    });
  });

  test('summed over partitions; the newest delivery and the oldest pending entry pick their partition', () => {
    const stats = groupStatsOf(
      group('g', [
        [0, 10n, { u: 12n, o: now - 50, l: now - 10 }],
        [1, 5n, { u: 9n, o: now - 900, l: now - 800 }],
      ]),
      [
        { partition: 0, start: 0n, end: 20n },
        { partition: 1, start: 0n, end: 9n },
      ],
      now,
    );
    expect(stats).toMatchObject({
      pending: 6,
      lag: 8,
      lastDeliveredId: '0-11',
      oldestPendingId: '1-5',
      oldestPendingAgeMs: 900,
      // and each partition's own figures, which the sums hide
      partitions: [
        { partition: 0, committedOffset: 10, endOffset: 20, pending: 2, lag: 8 },
        { partition: 1, committedOffset: 5, endOffset: 9, pending: 4, lag: 0 },
      ],
    });
  });

  test('a caught-up group has nothing pending; one that delivered nothing says so with an empty id', () => {
    expect(groupStatsOf(group('done', [[0, 50n]]), [{ partition: 0, start: 0n, end: 50n }], now)).toMatchObject({
      pending: 0,
      lag: 0,
      lastDeliveredId: '0-49',
      oldestPendingId: null,
      oldestPendingAgeMs: null,
    });
    expect(groupStatsOf(group('new', [[0, 0n]]), [{ partition: 0, start: 0n, end: 0n }], now)).toMatchObject({
      lastDeliveredId: '',
      pending: 0,
      lag: 0,
    });
  });

  test('entries trimmed below a commit count as neither pending nor lag', () => {
    const stats = groupStatsOf(group('g', [[0, 10n, { u: 30n }]]), [{ partition: 0, start: 20n, end: 40n }], now);
    expect(stats).toMatchObject({ pending: 10, lag: 10, oldestPendingId: '0-20' });
  });
});

describe('trim', () => {
  test('length cuts share maxLen in proportion and never keep more than it', () => {
    expect(lengthCuts([{ partition: 0, start: 0n, end: 500n }], 120)).toEqual(new Map([[0, 380n]]));
    const cuts = lengthCuts(
      [
        { partition: 0, start: 0n, end: 1000n },
        { partition: 1, start: 0n, end: 1000n },
        { partition: 2, start: 0n, end: 1000n },
      ],
      10,
    );
    expect(cuts).toEqual(
      new Map([
        [0, 997n],
        [1, 997n],
        [2, 997n],
      ]),
    );
    expect(lengthCuts([{ partition: 0, start: 5n, end: 5n }], 0)).toEqual(new Map([[0, 5n]]));
  });

  test('a group holds a cut back at its committed offset; a partition it has no commit for is not cut', () => {
    const bounds = [
      { partition: 0, start: 0n, end: 1000n },
      { partition: 1, start: 0n, end: 100n },
    ];
    const cuts = new Map([
      [0, 990n],
      [1, 90n],
    ]);
    expect(
      trimPlan(
        bounds,
        [
          group('fast', [
            [0, 1000n],
            [1, 100n],
          ]),
          group('slow', [[0, 300n]]),
        ],
        cuts,
      ),
    ).toEqual({
      deleteBefore: new Map([[0, 300n]]),
      heldBackByGroup: true,
      heldBy: ['slow'],
    });
    expect(
      trimPlan(
        bounds,
        [
          group('fast', [
            [0, 1000n],
            [1, 100n],
          ]),
        ],
        cuts,
      ),
    ).toEqual({
      deleteBefore: new Map([
        [0, 990n],
        [1, 90n],
      ]),
      heldBackByGroup: false,
      heldBy: [],
    });
    // no group at all: nothing holds the cut
    expect(trimPlan(bounds, [], cuts).heldBackByGroup).toBe(false);
  });
});
