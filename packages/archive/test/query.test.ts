import { ArchiveQueryError, type ArchivedMessage } from '../src';
import { archivePerFile, input } from './helpers';

const { archive } = archivePerFile(__filename);

// 300 records one second apart from 2026-11-20T12:00:00Z; service = i % 3, level = i % 4, type by i % 5
const batch = Array.from({ length: 300 }, (_, i) => input(i));
const base = Date.UTC(2026, 10, 20, 12, 0, 0);
const at = (seconds: number): string => new Date(base + seconds * 1000).toISOString();
const ids = (records: readonly ArchivedMessage[]): string[] => records.map((r) => r.id);
const expected = (pick: (i: number) => boolean): string[] =>
  batch
    .map((b, i) => ({ id: b.envelope.id, i }))
    .filter(({ i }) => pick(i))
    .sort((a, b) => b.i - a.i)
    .map(({ id }) => id);

beforeAll(async () => {
  const specials = [
    input(1000, { message: 'disk full on /var/lib', ts: at(-50) }),
    input(1001, { message: "payment for o'hare failed: card declined", ts: at(-40) }),
    input(1002, { message: "x' OR '1'='1", ts: at(-30), source: { service: "api' OR '1'='1" } }),
    input(1003, { message: 'AND OR NOT ( ) [ ] { } ~ * ? : \\ / "quoted"', ts: at(-20) }),
  ];
  expect((await archive().write([...batch, ...specials])).stored).toBe(304);
});

/** All pages of a search, following `next` until it is null. */
async function allPages(query: Record<string, unknown>): Promise<{ records: ArchivedMessage[]; pages: number }> {
  const records: ArchivedMessage[] = [];
  let before: string | undefined;
  for (let pages = 1; ; pages++) {
    const page = await archive().search({ ...query, ...(before ? { before } : {}) });
    records.push(...page.records);
    if (!page.next) {
      return { records, pages };
    }
    before = page.next;
  }
}

const inBatch = { from: at(0), to: at(300) };

describe('archive search', () => {
  it('returns newest first, filtered by time range [from, to)', async () => {
    const page = await archive().search({ from: at(100), to: at(110), channel: 'logs', limit: 1000 });
    expect(ids(page.records)).toEqual(expected((i) => i >= 100 && i < 110));
    expect(page.next).toBeNull();
  });

  it.each([
    ['service', { service: 'billing' }, (i: number) => i % 3 === 1],
    ['level', { level: 'error' }, (i: number) => i % 4 === 0],
    ['type', { type: 'order.created' }, (i: number) => i % 5 === 0],
    ['service and level', { service: 'api', level: 'warn' }, (i: number) => i % 3 === 0 && i % 4 === 1],
  ] as const)('filters on %s', async (_, filter, pick) => {
    const { records } = await allPages({ ...inBatch, ...filter, limit: 1000 });
    expect(ids(records)).toEqual(expected(pick));
  });

  it('pages with a cursor: no gaps, no repeats, same order as one big page', async () => {
    const whole = await archive().search({ ...inBatch, limit: 1000 });
    const { records, pages } = await allPages({ ...inBatch, limit: 7 });
    expect(pages).toBe(Math.ceil(300 / 7));
    expect(ids(records)).toEqual(ids(whole.records));
    expect(new Set(ids(records)).size).toBe(300);
  });

  it('pages on a filter too, and starts below an archived message', async () => {
    const { records } = await allPages({ ...inBatch, service: 'mailer', limit: 9 });
    expect(ids(records)).toEqual(expected((i) => i % 3 === 2));
    const pivot = batch[150]!.envelope;
    const below = await archive().search({
      channel: 'logs',
      beforeId: pivot.id,
      beforeTs: pivot.ts,
      from: at(0),
      limit: 5,
    });
    expect(ids(below.records)).toEqual(expected((i) => i >= 145 && i < 150));
  });

  it('starts below a message not archived yet, whatever its broker id means (a Kafka <partition>-<offset>)', async () => {
    // the live view's oldest line, read from Kafka before the archiver stored it: its broker id is
    // `0-41`, which the archive once read as 41 ms after 1970 and so found nothing older. Its ts lies
    // between two archived records' (a shared ts is ordered by uid, tested below with a twin)
    const live = input(5000, { ts: at(149.5) }).envelope;
    const below = await archive().search({
      channel: 'logs',
      beforeId: live.id,
      beforeTs: live.ts,
      from: at(0),
      limit: 5,
    });
    expect(ids(below.records)).toEqual(expected((i) => i >= 145 && i < 150));
    // a message at the same ts as an archived one: the archive's (ts, uid) order decides, as it will once archived
    const twin = { ...live, id: `${batch[150]!.envelope.id}~`, ts: at(150) };
    const belowTwin = await archive().search({
      channel: 'logs',
      beforeId: twin.id,
      beforeTs: twin.ts,
      from: at(0),
      limit: 1,
    });
    expect(ids(belowTwin.records)).toEqual(expected((i) => i === 150));
  });

  it('starts below a message of one channel while listing every channel (beforeChannel)', async () => {
    // far from the other tests' time ranges, so their counts are unchanged; in the past (a record
    // from the future is re-anchored to the time of archiving)
    const far = -10_000_000;
    const rows = [0, 1, 2, 3].map((n) => input(n, { ts: at(far + n) }, n % 2 === 0 ? 'logs' : 'events'));
    expect((await archive().write(rows)).stored).toBe(4);
    const window = { from: at(far), to: at(far + 10) };
    const pivot = { beforeId: rows[2]!.envelope.id, beforeTs: rows[2]!.envelope.ts };
    const below = await archive().search({ ...window, beforeChannel: 'logs', ...pivot });
    expect(ids(below.records)).toEqual([rows[1]!.envelope.id, rows[0]!.envelope.id]);
    // `channel` names the pivot's channel too, but filters
    const logsOnly = await archive().search({ ...window, channel: 'logs', ...pivot });
    expect(ids(logsOnly.records)).toEqual([rows[0]!.envelope.id]);
  });

  it('finds words in the message, all of them, whatever their case', async () => {
    expect((await archive().search({ text: 'DISK' })).records.map((r) => r.message)).toEqual(['disk full on /var/lib']);
    expect((await archive().search({ text: 'card payment' })).records).toHaveLength(1);
    expect((await archive().search({ text: 'card elephant' })).records).toHaveLength(0);
    const numbered = await archive().search({ text: 'number 42', ...inBatch });
    expect(ids(numbered.records)).toEqual(expected((i) => i === 42));
    const window = await archive().search({ text: 'message', from: at(50), to: at(60), level: 'info' });
    expect(ids(window.records)).toEqual(expected((i) => i >= 50 && i < 60 && i % 4 === 2));
  });

  it('treats SQL and Lucene syntax in the input as plain text', async () => {
    const sqlish = await archive().search({ text: "x' OR '1'='1" });
    expect(sqlish.records.map((r) => r.message)).toEqual(["x' OR '1'='1"]);
    expect((await archive().search({ service: "api' OR '1'='1" })).records).toHaveLength(1);
    expect((await archive().search({ service: "' OR 1=1 --" })).records).toHaveLength(0);
    expect((await archive().search({ type: 'log" OR type <> "' })).records).toHaveLength(0);
    const lucene = await archive().search({ text: 'AND OR NOT ( ) [ ] { } ~ * ? : \\ / "quoted"' });
    expect(lucene.records.map((r) => r.message)).toEqual(['AND OR NOT ( ) [ ] { } ~ * ? : \\ / "quoted"']);
    expect((await archive().search({ text: '*' })).records).toHaveLength(0);
  });

  it('refuses bad input with the field and the rule', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ limit: 0 }, 'limit', 'too_small'],
      [{ limit: 1001 }, 'limit', 'too_big'],
      [{ level: 'loud' }, 'level', 'invalid_value'],
      [{ from: 'yesterday' }, 'from', 'invalid_format'],
      [{ channel: 'Logs; DROP' }, 'channel', 'invalid_format'],
      [{ before: 'bm90LWEtY3Vyc29y' }, 'before', 'cursor'],
      [{ beforeId: 'x', beforeTs: at(0) }, 'channel', 'required'],
      [{ beforeId: 'x', channel: 'logs' }, 'beforeTs', 'required'],
      [{ beforeId: 'x', channel: 'logs', beforeTs: 'soon' }, 'beforeTs', 'invalid_format'],
      [{ nope: 1 }, '(query)', 'unrecognized_keys'],
      [{ text: 'x'.repeat(201) }, 'text', 'too_big'],
    ];
    for (const [query, field, rule] of cases) {
      const error = await archive()
        .search(query)
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArchiveQueryError);
      expect((error as ArchiveQueryError).issues).toContainEqual(expect.objectContaining({ field, rule }));
    }
  });
});

describe('archive counts', () => {
  it('counts per minute, every bucket listed, from the per-minute counts', async () => {
    const buckets = await archive().counts({ from: at(-60), to: at(300) });
    expect(buckets.map((b) => b.start)).toEqual([-1, 0, 1, 2, 3, 4].map((m) => at(m * 60)));
    // the four specials in the minute before, then 60 of the batch per minute
    expect(buckets.map((b) => b.count)).toEqual([4, 60, 60, 60, 60, 60]);
  });

  it('counts with filters and per hour, and with full-text', async () => {
    const errors = await archive().counts({ from: at(0), to: at(300), level: 'error', service: 'api' });
    expect(errors.reduce((n, b) => n + b.count, 0)).toBe(expected((i) => i % 4 === 0 && i % 3 === 0).length);
    const hourly = await archive().counts({ from: at(0), to: at(3600), bucket: 'hour' });
    expect(hourly).toEqual([{ start: at(0), count: 300 }]);
    const daily = await archive().counts({ from: at(-60), to: at(60), bucket: 'day' });
    expect(daily).toEqual([{ start: at(-43_200), count: 304 }]);
    const text = await archive().counts({ from: at(0), to: at(300), text: 'number 7' });
    expect(text.map((b) => b.count)).toEqual([1, 0, 0, 0, 0]);
  });

  it('refuses a range that is empty or holds too many buckets', async () => {
    await expect(archive().counts({ from: at(60), to: at(0) })).rejects.toThrow(/to: must be after from/);
    await expect(archive().counts({ from: at(0), to: at(86_400 * 30) })).rejects.toThrow(/max_buckets/);
    await expect(archive().counts({ from: at(0) } as never)).rejects.toBeInstanceOf(ArchiveQueryError);
  });
});
