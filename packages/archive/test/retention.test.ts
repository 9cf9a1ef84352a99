import { archivePerFile, input } from './helpers';

const { archive } = archivePerFile(__filename);

describe('archive retention', () => {
  it('deletes exactly the records older than the cutoff, in batches, and keeps the counts true', async () => {
    // 500 records one second apart from 12:00:00; the cutoff falls inside a minute
    const batch = Array.from({ length: 500 }, (_, i) => input(i));
    expect((await archive().write(batch)).stored).toBe(500);
    const cutoff = new Date(Date.UTC(2026, 10, 20, 12, 3, 17, 500)); // after i = 197
    const deleted = await archive().deleteOlderThan(cutoff, 37);
    expect(deleted).toBe(198);
    const left = await archive().search({ limit: 1000 });
    expect(left.records.map((r) => r.id).sort()).toEqual(
      batch
        .slice(198)
        .map((b) => b.envelope.id)
        .sort(),
    );
    const counts = await archive().counts({
      from: new Date(Date.UTC(2026, 10, 20, 11, 59)),
      to: new Date(Date.UTC(2026, 10, 20, 12, 9)),
    });
    // minute 3 keeps seconds 18..59 (42); minutes 4..7 keep 60 each; minute 8 holds i = 480..499
    expect(counts.map((b) => b.count)).toEqual([0, 0, 0, 0, 42, 60, 60, 60, 60, 20]);
    expect(await archive().deleteOlderThan(cutoff)).toBe(0);
  });
});
