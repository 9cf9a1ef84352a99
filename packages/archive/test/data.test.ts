import { ArchiveQueryError, type ArchivedMessage, type ArchiveInput } from '../src';
import { archivePerFile, input, rawQuery } from './helpers';

const { archive, database } = archivePerFile(__filename);

const base = Date.UTC(2026, 5, 1, 8, 0, 0);
const at = (seconds: number): string => new Date(base + seconds * 1000).toISOString();
const ids = (records: readonly ArchivedMessage[]): string[] => records.map((r) => r.id);
const newestFirst = (inputs: readonly ArchiveInput[]): string[] => inputs.map((i) => i.envelope.id).reverse();

/** Every JSON shape, and keys OrientDB or its driver would not keep as they are. */
const awkward = {
  status: 500,
  ratio: 0.25,
  negative: -42,
  big: 2 ** 53,
  huge: 1e20,
  tiny: 1e-300,
  yes: true,
  no: false,
  nothing: null,
  text: 'größe ü — 日本語 🎉 "quoted" \\ back\nslash',
  empty: '',
  list: [1, 'two', null, true, { deep: [[], {}] }, [3.5, [4]]],
  nested: { a: { b: { c: { d: 'deep' } } } },
  '@rid': '#9:9',
  '@class': 'OUser',
  '@type': 'd',
  '@version': 3,
  'a.b': 'dotted',
  'with space': 'spaced',
  '': 'empty key',
  '~json': 'looks like a marker',
  '~': 'tilde',
  'content-type': 'text/plain',
  '123': 'numeric key',
  lone: 'a\ud800b',
  inner: { '@class': 'OUser', '@rid': '#5:0', list: [{ '@class': 'X', name: 'x' }] },
};

const docker = (containerId: string, stream: 'stdout' | 'stderr', image = 'redis:7.4') => ({
  docker: { containerId, image, stream },
});
const REDIS_ID = 'a1b2c3d4e5f6'.padEnd(64, '0');
const NGINX_ID = 'f6e5d4c3b2a1'.padEnd(64, '9');

// a container's output, as the log-collector publishes it: instance = container name
const containerLines: ArchiveInput[] = Array.from({ length: 40 }, (_, i) =>
  input(i, {
    ts: at(i),
    source: { service: i % 2 === 0 ? 'redis' : 'nginx', instance: i % 2 === 0 ? 'proj-redis-1' : 'proj-nginx-1' },
    message: `container line ${i}`,
    data: {
      ...docker(i % 2 === 0 ? REDIS_ID : NGINX_ID, i % 4 < 2 ? 'stdout' : 'stderr'),
      status: i % 5 === 0 ? 500 : 200,
      code: i % 5 === 0 ? '500' : '200',
      ok: i % 5 !== 0,
      order: i,
      http: { method: i % 3 === 0 ? 'POST' : 'GET' },
    },
  }),
);
const roundTrip = input(100, { ts: at(100), data: awkward });
const inWindow = { from: at(0), to: at(40) };

beforeAll(async () => {
  expect((await archive().write([...containerLines, roundTrip])).stored).toBe(41);
});

describe('data as an embedded document', () => {
  it('reads back the same JSON it was published with', async () => {
    const record = await archive().findById('logs', roundTrip.envelope.id);
    expect(record?.data).toEqual(awkward);
    // and through a search page, the same
    const page = await archive().search({ from: at(100), to: at(101) });
    expect(page.records.map((r) => r.data)).toEqual([awkward]);
  });

  it('is stored as a map OrientDB itself can filter on (as in Studio)', async () => {
    const [row] = await rawQuery<{ t: string; s: unknown }>(
      database,
      'SELECT data.type() AS t, data.status AS s FROM Message WHERE eid = :eid',
      { eid: roundTrip.envelope.id },
    );
    expect(row).toEqual({ t: 'EMBEDDEDMAP', s: 500 });
    const errors = await rawQuery<{ eid: string }>(
      database,
      'SELECT eid FROM Message WHERE data.status = 500 AND tk < :to',
      {
        to: at(40),
      },
    );
    expect(errors.map((r) => r.eid).sort()).toEqual(
      containerLines
        .filter((_, i) => i % 5 === 0)
        .map((l) => l.envelope.id)
        .sort(),
    );
    // user keys that would have been taken for record attributes are stored escaped
    const [escaped] = await rawQuery<{ c: unknown; inner: unknown }>(
      database,
      'SELECT data.`~@class` AS c, data.inner.`~@rid` AS inner FROM Message WHERE eid = :eid',
      { eid: roundTrip.envelope.id },
    );
    expect(escaped).toEqual({ c: 'OUser', inner: '#5:0' });
  });
});

describe('field filter', () => {
  it('compares numbers, strings and booleans by type', async () => {
    const number = await archive().search({ ...inWindow, field: 'status', value: 500 });
    const fives = containerLines.filter((_, i) => i % 5 === 0);
    expect(ids(number.records)).toEqual(newestFirst(fives));
    // the string "500" is another value than the number 500
    expect((await archive().search({ ...inWindow, field: 'status', value: '500' })).records).toHaveLength(0);
    expect(ids((await archive().search({ ...inWindow, field: 'code', value: '500' })).records)).toEqual(
      newestFirst(fives),
    );
    expect((await archive().search({ ...inWindow, field: 'code', value: 500 })).records).toHaveLength(0);
    expect(ids((await archive().search({ ...inWindow, field: 'ok', value: false })).records)).toEqual(
      newestFirst(fives),
    );
    expect((await archive().search({ ...inWindow, field: 'ok', value: 'false' })).records).toHaveLength(0);
  });

  it('follows a nested path, takes SQL keywords as names, and matches nothing on a missing path', async () => {
    const posts = await archive().search({ ...inWindow, field: 'http.method', value: 'POST', limit: 5 });
    expect(ids(posts.records)).toEqual(newestFirst(containerLines.filter((_, i) => i % 3 === 0)).slice(0, 5));
    expect(posts.next).not.toBeNull();
    const older = await archive().search({ ...inWindow, field: 'http.method', value: 'POST', before: posts.next! });
    expect(ids(older.records)).toEqual(newestFirst(containerLines.filter((_, i) => i % 3 === 0)).slice(5));
    const order = await archive().search({ ...inWindow, field: 'order', value: 7 });
    expect(ids(order.records)).toEqual([containerLines[7]!.envelope.id]);
    expect((await archive().search({ ...inWindow, field: 'http.nope.deeper', value: 'x' })).records).toHaveLength(0);
    const deep = await archive().search({ field: 'nested.a.b.c.d', value: 'deep' });
    expect(ids(deep.records)).toEqual([roundTrip.envelope.id]);
  });

  it('counts the matching records', async () => {
    const buckets = await archive().counts({ from: at(0), to: at(60), field: 'status', value: 500 });
    expect(buckets).toEqual([{ start: at(0), count: 8 }]);
  });
});

describe('container and stream filters', () => {
  const redis = containerLines.filter((_, i) => i % 2 === 0);

  it('finds a container by name, by full id and by a 12-character id prefix', async () => {
    for (const container of ['proj-redis-1', REDIS_ID, REDIS_ID.slice(0, 12), REDIS_ID.slice(0, 20)]) {
      const { records } = await archive().search({ ...inWindow, container, limit: 1000 });
      expect(ids(records)).toEqual(newestFirst(redis));
    }
    // a prefix that continues differently is another container
    const other = `${REDIS_ID.slice(0, 12)}ff`;
    expect((await archive().search({ ...inWindow, container: other })).records).toHaveLength(0);
    expect((await archive().search({ ...inWindow, container: 'proj-redis-2' })).records).toHaveLength(0);
  });

  it('filters on the stream, alone and with the container, and pages through it', async () => {
    const stderr = containerLines.filter((_, i) => i % 4 >= 2);
    expect(ids((await archive().search({ ...inWindow, stream: 'stderr', limit: 1000 })).records)).toEqual(
      newestFirst(stderr),
    );
    const nginxOut = containerLines.filter((_, i) => i % 2 === 1 && i % 4 < 2);
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = await archive().search({
        ...inWindow,
        container: 'proj-nginx-1',
        stream: 'stdout',
        limit: 3,
        ...(before ? { before } : {}),
      });
      seen.push(...ids(page.records));
      before = page.next ?? undefined;
    } while (before);
    expect(seen).toEqual(newestFirst(nginxOut));
    const counted = await archive().counts({ from: at(0), to: at(60), container: 'proj-nginx-1', stream: 'stdout' });
    expect(counted).toEqual([{ start: at(0), count: nginxOut.length }]);
  });

  it('combines them with the field filter and full text', async () => {
    const { records } = await archive().search({
      ...inWindow,
      container: NGINX_ID.slice(0, 12),
      field: 'http.method',
      value: 'POST',
      text: 'container',
    });
    expect(ids(records)).toEqual(newestFirst(containerLines.filter((_, i) => i % 2 === 1 && i % 3 === 0)));
  });
});

describe('bad input names the field and the rule', () => {
  it.each([
    [{ field: 'status = 500 OR 1 = 1', value: 1 }, 'field', 'invalid_format'],
    [{ field: 'status`) OR (1', value: 1 }, 'field', 'invalid_format'],
    [{ field: 'data..status', value: 1 }, 'field', 'invalid_format'],
    [{ field: '@rid', value: '#1:1' }, 'field', 'invalid_format'],
    [{ field: '1status', value: 1 }, 'field', 'invalid_format'],
    [{ field: 'a.b.c.d.e.f.g.h.i', value: 1 }, 'field', 'invalid_format'],
    [{ field: 'x'.repeat(65), value: 1 }, 'field', 'invalid_format'],
    [{ field: 'status' }, 'value', 'required'],
    [{ value: 500 }, 'field', 'required'],
    [{ field: 'status', value: { $gt: 1 } }, 'value', 'invalid_union'],
    [{ field: 'status', value: null }, 'value', 'invalid_union'],
    [{ field: 'status', value: 'x'.repeat(1025) }, 'value', 'too_big'],
    [{ container: '' }, 'container', 'too_small'],
    [{ container: 'x'.repeat(129) }, 'container', 'too_big'],
    [{ stream: 'stdin' }, 'stream', 'invalid_value'],
  ])('%j: %s [%s]', async (query, field, rule) => {
    // deliberately outside the query types
    const bad = query as never;
    for (const run of [
      () => archive().search(bad),
      () => archive().counts({ ...(query as object), from: at(0), to: at(60) }),
    ]) {
      const error = await run()
        .then(() => undefined)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArchiveQueryError);
      expect((error as ArchiveQueryError).issues).toContainEqual(expect.objectContaining({ field, rule }));
    }
  });

  it('a value that looks like SQL is only a value', async () => {
    expect((await archive().search({ field: 'code', value: "500' OR '1'='1" })).records).toHaveLength(0);
    expect((await archive().search({ container: "x' OR '1'='1" })).records).toHaveLength(0);
    expect((await archive().search({ limit: 1000 })).records).toHaveLength(41);
  });
});
