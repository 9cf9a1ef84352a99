import { buildEnvelope, type Envelope } from '@mupets/broker';
import { bodyOf, errorOf, fieldsOf, startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';

interface RecordView {
  id: string;
  data?: Record<string, unknown>;
}

let admin: TestAdmin;
let client: LoggedIn;
const written: Array<{ channel: string; brokerId: string; envelope: Envelope }> = [];
const END = Date.parse('2026-04-01T12:00:00.000Z');
const WEB_ID = '0123456789ab'.padEnd(64, 'c');
const DB_ID = 'ba9876543210'.padEnd(64, 'd');

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename });
  client = await admin.login();
  // container output as the log-collector publishes it, and one record with awkward keys
  for (let i = 0; i < 24; i++) {
    const web = i % 2 === 0;
    const envelope = buildEnvelope('logs', {
      type: 'container.log',
      ts: new Date(END - (23 - i) * 60_000).toISOString(),
      source: { service: web ? 'web' : 'db', instance: web ? 'shop-web-1' : 'shop-db-1' },
      level: 'info',
      message: `line ${i}`,
      data: {
        docker: {
          containerId: web ? WEB_ID : DB_ID,
          image: web ? 'nginx' : 'postgres',
          stream: i % 3 === 0 ? 'stderr' : 'stdout',
        },
        status: i % 4 === 0 ? 500 : 200,
        code: i % 4 === 0 ? '500' : '200',
        cached: i % 4 !== 0,
        http: { method: i % 6 === 0 ? 'POST' : 'GET', path: '/a b?c=d' },
      },
    });
    written.push({ channel: 'logs', brokerId: `${1_710_000_000_000 + i}-0`, envelope });
  }
  const awkward = buildEnvelope('logs', {
    type: 'awkward',
    ts: new Date(END - 30 * 60_000).toISOString(),
    source: { service: 'odd' },
    data: { '@rid': '#1:1', '@class': 'OUser', 'a.b': 1, 'a b': [null, { '': 'x' }], huge: 1e20, text: 'ü 🎉' },
  });
  written.push({ channel: 'logs', brokerId: `${1_709_000_000_000}-0`, envelope: awkward });
  await admin.archive.write(written);
});

afterAll(async () => {
  await admin.close();
});

const get = (path: string) => client.agent.get(path);
const idsOf = (answer: { body: unknown }): string[] =>
  bodyOf<{ records: RecordView[] }>(answer).records.map((r) => r.id);
const expected = (pick: (e: Envelope, i: number) => boolean): string[] =>
  written
    .slice(0, 24)
    .filter((w, i) => pick(w.envelope, i))
    .map((w) => w.envelope.id)
    .reverse();

describe('archive filters: field, container, stream', () => {
  test('field and value: the value typed as JSON reads it (500, "500", true)', async () => {
    const number = await get('/api/archive/search?field=status&value=500');
    expect(number.status).toBe(200);
    expect(idsOf(number)).toEqual(expected((_, i) => i % 4 === 0));
    expect(idsOf(await get('/api/archive/search?field=status&value=%22500%22'))).toEqual([]);
    expect(idsOf(await get('/api/archive/search?field=code&value=%22500%22'))).toEqual(expected((_, i) => i % 4 === 0));
    expect(idsOf(await get('/api/archive/search?field=cached&value=false'))).toEqual(expected((_, i) => i % 4 === 0));
    const nested = await get(`/api/archive/search?field=http.method&value=POST&container=shop-web-1`);
    expect(idsOf(nested)).toEqual(expected((_, i) => i % 6 === 0));
    const spaced = await get(`/api/archive/search?field=http.path&value=${encodeURIComponent('/a b?c=d')}&limit=1`);
    expect(idsOf(spaced)).toHaveLength(1);
  });

  test('container by name, by id and by a 12-character prefix; stream', async () => {
    const web = expected((_, i) => i % 2 === 0);
    for (const container of ['shop-web-1', WEB_ID, WEB_ID.slice(0, 12)]) {
      expect(idsOf(await get(`/api/archive/search?container=${container}`))).toEqual(web);
    }
    expect(idsOf(await get('/api/archive/search?container=shop-db-1&stream=stderr'))).toEqual(
      expected((_, i) => i % 2 === 1 && i % 3 === 0),
    );
  });

  test('counts and export take the same filters', async () => {
    const from = new Date(END - 60 * 60_000).toISOString();
    const to = new Date(END + 60_000).toISOString();
    const counts = await get(
      `/api/archive/counts?from=${from}&to=${to}&bucket=hour&container=shop-web-1&field=status&value=500`,
    );
    expect(counts.status).toBe(200);
    const total = bodyOf<{ buckets: Array<{ count: number }> }>(counts).buckets.reduce((n, b) => n + b.count, 0);
    expect(total).toBe(expected((_, i) => i % 2 === 0 && i % 4 === 0).length);
    const exported = await get(
      '/api/archive/export?format=ndjson&stream=stderr&container=' + DB_ID.slice(0, 16),
    ).buffer(true);
    expect(exported.status).toBe(200);
    const ids = exported.text
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as RecordView).id);
    expect(ids).toEqual(expected((_, i) => i % 2 === 1 && i % 3 === 0));
  });

  test('a record reads back with the data it was published with, awkward keys included', async () => {
    const awkward = written[24]!;
    const answer = await get(`/api/archive/records/logs/${awkward.envelope.id}`);
    expect(bodyOf<RecordView>(answer).data).toEqual(awkward.envelope.data);
  });

  test.each([
    ['field=' + encodeURIComponent('status = 500 OR 1=1') + '&value=1', 'field'],
    ['field=' + encodeURIComponent('status`) OR (`x') + '&value=1', 'field'],
    ['field=' + encodeURIComponent('@rid') + '&value=1', 'field'],
    ['field=a..b&value=1', 'field'],
    ['field=a.b.c.d.e.f.g.h.i&value=1', 'field'],
    ['field=status', 'value'],
    ['value=500', 'field'],
    ['field=status&value=' + 'x'.repeat(1025), 'value'],
    ['field=status&value=1&value=2', 'value'],
    ['container=' + encodeURIComponent("web' OR 1=1"), 'container'],
    ['container=' + 'x'.repeat(129), 'container'],
    ['stream=stdin', 'stream'],
  ])('%s: 400 naming %s (search, counts and export)', async (query, field) => {
    const range = `from=2026-04-01T00:00:00Z&to=2026-04-02T00:00:00Z`;
    for (const path of [
      `/api/archive/search?${query}`,
      `/api/archive/counts?${range}&${query}`,
      `/api/archive/export?format=csv&${query}`,
    ]) {
      const answer = await get(path);
      expect(answer.status).toBe(400);
      expect(errorOf(answer).code).toBe('invalid_input');
      expect(fieldsOf(answer)).toContain(field);
    }
  });
});
