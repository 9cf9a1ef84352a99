import { buildEnvelope, type Envelope, type Level } from '@mupets/broker';
import { bodyOf, errorOf, fieldsOf, startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';

interface RecordView {
  id: string;
  channel: string;
  brokerId: string;
  ts: string;
  service: string;
  level?: string;
  type: string;
  message?: string;
  data?: Record<string, unknown>;
  cursor?: string;
}

let admin: TestAdmin;
let client: LoggedIn;
const written: Array<{ channel: string; brokerId: string; envelope: Envelope }> = [];
/** The newest record's time: the fixture spans the 40 minutes up to it. */
const END = Date.parse('2026-03-01T12:00:00.000Z');

const SERVICES = ['api', 'billing', 'mailer'];
const LEVELS: Level[] = ['info', 'warn', 'error'];

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename });
  client = await admin.login();
  for (let i = 0; i < 40; i++) {
    const channel = i % 4 === 0 ? 'events' : 'logs';
    const envelope = buildEnvelope(channel, {
      type: i % 4 === 0 ? 'order.created' : 'log',
      ts: new Date(END - (39 - i) * 60_000).toISOString(),
      source: { service: SERVICES[i % 3]!, instance: `pod-${i % 2}` },
      level: LEVELS[i % 3],
      message:
        i === 7
          ? 'payment "declined", card=4242\nretry, later'
          : i === 8
            ? '=HYPERLINK("http://evil")'
            : `request ${i} handled`,
      data: { i, nested: { ok: i % 2 === 0 } },
    });
    written.push({ channel, brokerId: `${1_700_000_000_000 + i}-0`, envelope });
  }
  await admin.archive.write(written.map(({ channel, brokerId, envelope }) => ({ channel, brokerId, envelope })));
});

afterAll(async () => {
  await admin.close();
});

const get = (path: string) => client.agent.get(path);
const newestFirst = () => [...written].reverse();

describe('GET /api/archive/search', () => {
  test('newest first, limit and the next cursor page through every record without gap or repeat', async () => {
    const seen: string[] = [];
    let next: string | null = null;
    let pages = 0;
    do {
      const answer = await get(`/api/archive/search?limit=15${next ? `&before=${encodeURIComponent(next)}` : ''}`);
      expect(answer.status).toBe(200);
      const page = bodyOf<{ records: RecordView[]; next: string | null }>(answer);
      seen.push(...page.records.map((record) => record.id));
      next = page.next;
      pages++;
    } while (next);
    expect(pages).toBe(3);
    expect(seen).toEqual(newestFirst().map((w) => w.envelope.id));
  });

  test('filters: channel, service, level, type, time range', async () => {
    const query = new URLSearchParams({
      channel: 'logs',
      service: 'api',
      level: 'info',
      from: new Date(END - 30 * 60_000).toISOString(),
      to: new Date(END).toISOString(),
    });
    const answer = await get(`/api/archive/search?${query.toString()}`);
    expect(answer.status).toBe(200);
    const expected = newestFirst().filter(
      (w) =>
        w.channel === 'logs' &&
        w.envelope.source.service === 'api' &&
        w.envelope.level === 'info' &&
        Date.parse(w.envelope.ts) >= END - 30 * 60_000 &&
        Date.parse(w.envelope.ts) < END,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(bodyOf<{ records: RecordView[] }>(answer).records.map((r) => r.id)).toEqual(
      expected.map((w) => w.envelope.id),
    );
    const typed = await get('/api/archive/search?type=order.created');
    expect(bodyOf<{ records: RecordView[] }>(typed).records).toHaveLength(10);
  });

  test('full text: the words of a message; Lucene syntax in the text is plain text, not a query', async () => {
    const found = await get('/api/archive/search?text=declined');
    expect(bodyOf<{ records: RecordView[] }>(found).records.map((r) => r.id)).toEqual([written[7]!.envelope.id]);
    const matches: Record<string, number> = {};
    for (const text of ['*:*', 'message:* OR type:*', 'request AND NOT x', '[* TO *]', '"unbalanced', '\\']) {
      const answer = await get(`/api/archive/search?text=${encodeURIComponent(text)}`);
      expect(answer.status).toBe(200);
      matches[text] = bodyOf<{ records: RecordView[] }>(answer).records.length;
    }
    // a text with no words left (only quotes and backslashes) filters nothing, like an empty one
    expect(matches).toEqual({
      '*:*': 0,
      'message:* OR type:*': 0,
      'request AND NOT x': 0,
      '[* TO *]': 0,
      '"unbalanced': 0,
      '\\': written.length,
    });
  });

  test.each([
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1e3', 'limit'],
    ['from=yesterday', 'from'],
    ['to=2026-13-45T99:00:00Z', 'to'],
    ['level=loud', 'level'],
    ['channel=' + encodeURIComponent("logs' OR 1=1 --"), 'channel'],
    ['service=' + encodeURIComponent("' OR 1=1 --"), 'service'],
    ['service=' + encodeURIComponent('"; DROP CLASS Message; --'), 'service'],
    ['type=' + encodeURIComponent('<script>alert(1)</script>'), 'type'],
    ['service=a&service=b', 'service'],
    ['text=' + 'x'.repeat(201), 'text'],
    ['before=not-a-cursor', 'before'],
    ['beforeId=x&beforeTs=2026-11-20T12:00:00.000Z', 'channel'],
    ['beforeId=x&channel=logs', 'beforeTs'],
    ['beforeId=x&channel=logs&beforeTs=soon', 'beforeTs'],
    ['beforeId=' + 'x'.repeat(129) + '&channel=logs&beforeTs=2026-11-20T12:00:00.000Z', 'beforeId'],
    [
      'beforeId=x&beforeTs=2026-11-20T12:00:00.000Z&beforeChannel=' + encodeURIComponent("logs' OR 1=1"),
      'beforeChannel',
    ],
    ['sort=ts', 'sort'],
  ])('%s: 400 naming %s', async (query, field) => {
    const answer = await get(`/api/archive/search?${query}`);
    expect(answer.status).toBe(400);
    expect(errorOf(answer).code).toBe('invalid_input');
    expect(fieldsOf(answer)).toContain(field);
  });

  test('the archive is unchanged by all of that', async () => {
    const answer = await get('/api/archive/search?limit=1000');
    expect(bodyOf<{ records: RecordView[] }>(answer).records).toHaveLength(written.length);
  });

  /** The query naming a live line to continue below: its envelope id and ts (never its broker id). */
  const below = (pivot: (typeof written)[number]): string =>
    `beforeId=${encodeURIComponent(pivot.envelope.id)}&beforeTs=${encodeURIComponent(pivot.envelope.ts)}`;

  test('beforeId continues below a live entry', async () => {
    const pivot = written[30]!;
    const answer = await get(`/api/archive/search?channel=${pivot.channel}&${below(pivot)}&limit=3`);
    expect(answer.status).toBe(200);
    const expected = newestFirst()
      .filter((w) => w.channel === pivot.channel && Date.parse(w.envelope.ts) < Date.parse(pivot.envelope.ts))
      .slice(0, 3);
    expect(bodyOf<{ records: RecordView[] }>(answer).records.map((r) => r.id)).toEqual(
      expected.map((w) => w.envelope.id),
    );
  });

  test('beforeChannel continues below a live entry across every channel (the live view joins the archive)', async () => {
    const pivot = written[30]!;
    const answer = await get(`/api/archive/search?beforeChannel=${pivot.channel}&${below(pivot)}&limit=5`);
    expect(answer.status).toBe(200);
    const expected = newestFirst()
      .filter((w) => Date.parse(w.envelope.ts) < Date.parse(pivot.envelope.ts))
      .slice(0, 5);
    expect(new Set(expected.map((w) => w.channel)).size).toBeGreaterThan(1);
    expect(bodyOf<{ records: RecordView[] }>(answer).records.map((r) => r.id)).toEqual(
      expected.map((w) => w.envelope.id),
    );
  });
});

describe('GET /api/archive/counts', () => {
  test('buckets over the range, zeros included', async () => {
    const from = new Date(END - 39 * 60_000).toISOString();
    const to = new Date(END + 60_000).toISOString();
    const answer = await get(`/api/archive/counts?from=${from}&to=${to}&bucket=minute`);
    expect(answer.status).toBe(200);
    const buckets = bodyOf<{ buckets: Array<{ start: string; count: number }> }>(answer).buckets;
    expect(buckets).toHaveLength(40);
    expect(buckets.every((b) => b.count === 1)).toBe(true);
    const hourly = await get(`/api/archive/counts?from=${from}&to=${to}&bucket=hour&service=api`);
    const total = bodyOf<{ buckets: Array<{ count: number }> }>(hourly).buckets.reduce((s, b) => s + b.count, 0);
    expect(total).toBe(written.filter((w) => w.envelope.source.service === 'api').length);
  });

  test.each([
    ['', 'from'],
    ['from=2026-03-01T00:00:00Z', 'to'],
    ['from=2026-03-01T00:00:00Z&to=2026-03-01T01:00:00Z&bucket=week', 'bucket'],
    ['from=2026-03-01T01:00:00Z&to=2026-03-01T00:00:00Z', 'to'],
    ['from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=minute', 'bucket'],
  ])('%s: 400 naming %s', async (query, field) => {
    const answer = await get(`/api/archive/counts?${query}`);
    expect(answer.status).toBe(400);
    expect(fieldsOf(answer)).toContain(field);
  });
});

describe('GET /api/archive/export', () => {
  test('NDJSON: every matching record, newest first, streamed as an attachment', async () => {
    const answer = await get('/api/archive/export?format=ndjson').buffer(true);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(answer.headers['content-disposition']).toMatch(/^attachment; filename="mupets-archive-.*\.ndjson"$/);
    const lines = answer.text.trimEnd().split('\n');
    const records = lines.map((line) => JSON.parse(line) as RecordView);
    expect(records.map((r) => r.id)).toEqual(newestFirst().map((w) => w.envelope.id));
    expect(records[0]).not.toHaveProperty('cursor');
    expect(records.find((r) => r.id === written[7]!.envelope.id)?.message).toBe(written[7]!.envelope.message);
  });

  test('NDJSON pages through more than one archive page (1000 records)', async () => {
    const more = Array.from({ length: 1100 }, (_, i) => {
      const envelope = buildEnvelope('logs', {
        type: 'bulk',
        ts: new Date(END - 86_400_000 - i * 1000).toISOString(),
        source: { service: 'bulk' },
        message: `bulk ${i}`,
      });
      return { channel: 'logs', brokerId: `${1_600_000_000_000 + i}-0`, envelope };
    });
    await admin.archive.write(more);
    const answer = await get('/api/archive/export?format=ndjson&service=bulk').buffer(true);
    const ids = answer.text
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as RecordView).id);
    expect(ids).toEqual(more.map((m) => m.envelope.id));
  });

  test('CSV: a header, RFC 4180 quoting, formulas neutralised, filters applied', async () => {
    const answer = await get('/api/archive/export?format=csv&channel=logs&service=billing').buffer(true);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/csv/);
    const text = answer.text;
    expect(text.startsWith('ts,channel,brokerId,id,service,instance,host,level,type,message,data\r\n')).toBe(true);
    const declined = written[7]!;
    expect(declined.envelope.source.service).toBe('billing');
    expect(text).toContain(`,"payment ""declined"", card=4242\nretry, later",`);
    const formula = written[8]!;
    expect(formula.envelope.source.service).toBe('mailer');
    const rows = text.split('\r\n').filter((line) => line.length > 0);
    const expected = newestFirst().filter((w) => w.channel === 'logs' && w.envelope.source.service === 'billing');
    // one header line; the message with a newline is one quoted field (so one more physical line)
    expect(text.match(/\r\n/g)).toHaveLength(expected.length + 1);
    expect(rows[1]).toContain(expected[0]!.envelope.id);
  });

  test('CSV: a value that starts like a formula gets a leading quote', async () => {
    const answer = await get('/api/archive/export?format=csv&service=mailer').buffer(true);
    expect(answer.text).toContain(`,"'=HYPERLINK(""http://evil"")",`);
  });

  test.each([
    ['', 'format'],
    ['format=xml', 'format'],
    ['format=csv&level=loud', 'level'],
    ['format=csv&limit=5', 'limit'],
  ])('%s: 400 naming %s (JSON, before any file is sent)', async (query, field) => {
    const answer = await get(`/api/archive/export?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(fieldsOf(answer)).toContain(field);
  });
});

describe('GET /api/archive/records/:channel/:id', () => {
  test('one record; 404 not_found for an unknown id; 400 for a bad channel', async () => {
    const one = written[5]!;
    const answer = await get(`/api/archive/records/${one.channel}/${one.envelope.id}`);
    expect(answer.status).toBe(200);
    expect(bodyOf<RecordView>(answer)).toMatchObject({
      id: one.envelope.id,
      brokerId: one.brokerId,
      channel: one.channel,
      data: one.envelope.data,
    });
    const missing = await get(`/api/archive/records/logs/${encodeURIComponent("x' OR 1=1 --")}`);
    expect(missing.status).toBe(404);
    expect(errorOf(missing).code).toBe('not_found');
    const bad = await get(`/api/archive/records/${encodeURIComponent('Logs;DROP')}/x`);
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toContain('channel');
  });
});
