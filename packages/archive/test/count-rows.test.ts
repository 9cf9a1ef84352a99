import type { CountQuery } from '../src';
import { COUNT_COMBINATIONS_PER_MINUTE } from '../src/count-rows';
import { archivePerFile, input, rawQuery } from './helpers';

const { archive, database } = archivePerFile(__filename);

const MINUTE = Date.UTC(2026, 6, 1, 9, 0, 0);
/** More distinct (service, level, type) combinations in one minute than get count rows of their own. */
const DISTINCT = COUNT_COMBINATIONS_PER_MINUTE * 2 + 300;

/** Record i of the minute: a type of its own (an order id in the type, say), one of three services. */
function distinctType(i: number, channel = 'logs') {
  return input(i, { type: `order.${i}.created`, ts: new Date(MINUTE + i * 20).toISOString() }, channel);
}

async function countRows(minute: string, writer?: string): Promise<number> {
  const [row] = await rawQuery<{ n: number }>(
    database,
    `SELECT count(*) AS n FROM MessageCount WHERE bucket = :minute${writer ? ' AND writer = :writer' : ''}`,
    { minute, writer },
  );
  return Number(row?.n);
}

async function countOf(query: Omit<CountQuery, 'from' | 'to'>): Promise<number[]> {
  const buckets = await archive().counts({
    from: new Date(MINUTE - 60_000),
    to: new Date(MINUTE + 120_000),
    ...query,
  });
  return buckets.map((b) => b.count);
}

describe('archive count rows', () => {
  const batch = Array.from({ length: DISTINCT }, (_, i) => distinctType(i));

  beforeAll(async () => {
    // two writers, several batches each: the bound holds per writer across batches
    for (let start = 0; start < batch.length; start += 250) {
      const writer = start % 500 === 0 ? 'w-a' : 'w-b';
      expect((await archive().write(batch.slice(start, start + 250), writer)).stored).toBe(
        Math.min(250, batch.length - start),
      );
    }
  });

  it('a type of its own on every record adds a bounded number of rows per writer and minute', async () => {
    const minute = new Date(MINUTE).toISOString().slice(0, 16);
    // per writer: the combinations it counts on their own, one row for the rest, one channel total
    expect(await countRows(minute, 'w-a')).toBeLessThanOrEqual(COUNT_COMBINATIONS_PER_MINUTE + 2);
    expect(await countRows(minute, 'w-b')).toBeLessThanOrEqual(COUNT_COMBINATIONS_PER_MINUTE + 2);
    expect(await countRows(minute)).toBeLessThan(DISTINCT);
  });

  it('counts stay exact however a minute was counted: total, by type, service and level, by hour', async () => {
    expect(await countOf({})).toEqual([0, DISTINCT, 0]);
    expect(await countOf({ channel: 'logs' })).toEqual([0, DISTINCT, 0]);
    // the first and the last combination: one counted on its own row, one past the bound
    expect(await countOf({ type: 'order.0.created' })).toEqual([0, 1, 0]);
    expect(await countOf({ type: `order.${DISTINCT - 1}.created` })).toEqual([0, 1, 0]);
    const byService = batch.filter((b) => b.envelope.source.service === 'billing').length;
    expect(await countOf({ service: 'billing' })).toEqual([0, byService, 0]);
    const errors = batch.filter((b) => b.envelope.level === 'error' && b.envelope.source.service === 'api').length;
    expect(await countOf({ service: 'api', level: 'error' })).toEqual([0, errors, 0]);
    expect(await countOf({ channel: 'events', service: 'api' })).toEqual([0, 0, 0]);
    const hourly = await archive().counts({
      from: new Date(MINUTE - 3_600_000),
      to: new Date(MINUTE + 3_600_000),
      bucket: 'hour',
      service: 'billing',
    });
    expect(hourly.map((b) => b.count)).toEqual([0, byService]);
  });

  it('a minute recounted by retention is bounded the same way, and its counts stay exact', async () => {
    const later = MINUTE + 10 * 60_000;
    const records = Array.from({ length: DISTINCT }, (_, i) =>
      input(i, { type: `invoice.${i}.sent`, ts: new Date(later + i * 20).toISOString() }, 'events'),
    );
    for (let start = 0; start < records.length; start += 500) {
      await archive().write(records.slice(start, start + 500), 'w-c');
    }
    // the cutoff falls inside the minute: its first 100 records go, the minute is recounted
    const cutoff = new Date(later + 100 * 20);
    expect(await archive().deleteOlderThan(cutoff)).toBe(DISTINCT + 100);
    const minute = new Date(later).toISOString().slice(0, 16);
    expect(await countRows(minute)).toBeLessThanOrEqual(COUNT_COMBINATIONS_PER_MINUTE + 2);
    const kept = records.slice(100);
    const at = { from: new Date(later), to: new Date(later + 60_000) };
    expect((await archive().counts(at)).map((b) => b.count)).toEqual([kept.length]);
    expect((await archive().counts({ ...at, type: `invoice.${DISTINCT - 1}.sent` })).map((b) => b.count)).toEqual([1]);
    const mailer = kept.filter((b) => b.envelope.source.service === 'mailer').length;
    expect((await archive().counts({ ...at, service: 'mailer' })).map((b) => b.count)).toEqual([mailer]);
  });
});
