import type { Envelope } from '@mupets/broker';
import { waitFor } from '@mupets/testkit';
import { errorOf, fieldsOf, startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';
import { openSse, type SseClient } from './sse-client';

interface LiveEntry {
  channel: string;
  id: string;
  envelope: Envelope;
}

let admin: TestAdmin;
let client: LoggedIn;
let base: string;
const open: SseClient[] = [];

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename, env: { ADMIN_SSE_HEARTBEAT_MS: '1000' } });
  client = await admin.login();
  base = await admin.listen();
});

afterEach(() => {
  open.splice(0).forEach((sse) => sse.close());
});

afterAll(async () => {
  await admin.close();
});

async function connect(query = '', lastEventId?: string): Promise<SseClient> {
  const sse = await openSse(`${base}/api/live${query}`, client.cookie, lastEventId);
  open.push(sse);
  if (sse.status === 200) {
    await waitFor(() => sse.events.some((e) => e.event === 'ready'), { what: 'the ready event' });
  }
  return sse;
}

function entriesOf(sse: SseClient): LiveEntry[] {
  return sse.events.filter((e) => e.event === 'entries').flatMap((e) => JSON.parse(e.data) as LiveEntry[]);
}

const note = (channel: string, n: number) => ({ type: 'live.test', source: { service: 'live' }, data: { channel, n } });

test('a published entry arrives as an entries event whose id is the cursor of every channel', async () => {
  // the login's audit record is stored before the stream starts: the audit cursor stays put
  await waitFor(async () => (await admin.broker.range('audit')).length > 0, { what: 'the login audited' });
  const sse = await connect();
  expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
  const ready = sse.events.find((e) => e.event === 'ready')!;
  // every channel of ADMIN_CHANNELS: logs, events and audit (holding the login's audit record)
  expect(ready.id).toMatch(/^logs=(0|\d+-\d+);events=(0|\d+-\d+);audit=\d+-\d+$/);
  const audit = String(ready.id).split(';')[2];

  const logsId = await admin.broker.publish('logs', note('logs', 1));
  const eventsId = await admin.broker.publish('events', note('events', 1));
  await waitFor(() => entriesOf(sse).length >= 2, { what: 'two live entries' });
  const entries = entriesOf(sse);
  expect(entries.map((e) => [e.channel, e.id])).toEqual(
    expect.arrayContaining([
      ['logs', logsId],
      ['events', eventsId],
    ]),
  );
  expect(entries.find((e) => e.id === logsId)!.envelope).toMatchObject({ type: 'live.test', data: { n: 1 } });
  const last = sse.events.filter((e) => e.event === 'entries').pop()!;
  expect(last.id).toBe(`logs=${logsId};events=${eventsId};${audit}`);
});

test('reconnecting with Last-Event-ID resumes right after it: no gap, no duplicate', async () => {
  const first = await connect();
  const before = await admin.broker.publish('logs', [note('logs', 10), note('logs', 11)]);
  await waitFor(() => entriesOf(first).length === 2, { what: 'the first two entries' });
  const cursor = first.events.filter((e) => e.event === 'entries').pop()!.id!;
  first.close();
  await waitFor(() => admin.streams.size === 0, { what: 'the first stream closed server-side' });

  // while the client is away
  const missedLogs = await admin.broker.publish('logs', [note('logs', 12), note('logs', 13)]);
  const missedEvents = await admin.broker.publish('events', [note('events', 12)]);

  const second = await connect('', cursor);
  const after = await admin.broker.publish('logs', note('logs', 14));
  await waitFor(() => entriesOf(second).some((e) => e.id === after), { what: 'the entry after reconnecting' });
  const logs = entriesOf(second)
    .filter((e) => e.channel === 'logs')
    .map((e) => e.id);
  const events = entriesOf(second)
    .filter((e) => e.channel === 'events')
    .map((e) => e.id);
  expect(logs).toEqual([...missedLogs, after]);
  expect(events).toEqual(missedEvents);
  expect(logs).not.toEqual(expect.arrayContaining(before));
});

test('the ready event is a cursor too: a client that saw no entry resumes without a gap', async () => {
  const first = await connect('?channels=logs');
  const cursor = first.events.find((e) => e.event === 'ready')!.id!;
  first.close();
  const missed = await admin.broker.publish('logs', note('logs', 20));
  const second = await connect('?channels=logs', cursor);
  await waitFor(() => entriesOf(second).length === 1, { what: 'the missed entry' });
  expect(entriesOf(second).map((e) => e.id)).toEqual([missed]);
});

test('channels and from select the channels and the starting point', async () => {
  const [a, b] = await admin.broker.publish('events', [note('events', 30), note('events', 31)]);
  const sse = await connect(`?channels=events&from=${encodeURIComponent(`events=${a}`)}`);
  await admin.broker.publish('logs', note('logs', 30));
  const c = await admin.broker.publish('events', note('events', 32));
  await waitFor(() => entriesOf(sse).some((e) => e.id === c), { what: 'the new events entry' });
  expect(entriesOf(sse).map((e) => e.id)).toEqual([b, c]);
  expect(sse.events.find((e) => e.event === 'ready')!.id).toBe(`events=${a}`);
});

test('server-side filters: service, levels, type and text in the message', async () => {
  const sse = await connect('?channels=logs&service=billing&level=warn,error&type=charge&text=DECLINED');
  const msg = (service: string, lvl: string, type: string, message: string) => ({
    type,
    source: { service },
    level: lvl as 'warn',
    message,
  });
  const ids = await admin.broker.publish('logs', [
    msg('billing', 'error', 'charge', 'card declined'),
    msg('api', 'error', 'charge', 'card declined'),
    msg('billing', 'info', 'charge', 'card declined'),
    msg('billing', 'warn', 'refund', 'card declined'),
    msg('billing', 'warn', 'charge', 'card accepted'),
    msg('billing', 'warn', 'charge', 'Declined twice'),
  ]);
  await waitFor(() => entriesOf(sse).length === 2, { what: 'the two matching entries' });
  expect(entriesOf(sse).map((e) => e.id)).toEqual([ids[0], ids[5]]);
});

test.each([
  ['?level=loud', 'level'],
  ['?service=' + encodeURIComponent("' OR 1=1 --"), 'service'],
  ['?type=' + encodeURIComponent('<script>'), 'type'],
])('filter %s: 400 naming %s', async (query, field) => {
  const answer = await client.agent.get(`/api/live${query}`);
  expect(answer.status).toBe(400);
  expect(fieldsOf(answer).join(',')).toContain(field);
});

test('a keep-alive comment comes while nothing is published', async () => {
  const sse = await connect('?channels=events');
  await waitFor(() => sse.events.some((e) => e.event === 'comment'), { what: 'a keep-alive comment' });
});

test('the client going away closes the stream and its tails on the server', async () => {
  await waitFor(() => admin.streams.size === 0, { what: 'earlier streams closed' });
  const sse = await connect();
  expect(admin.streams.size).toBe(1);
  sse.close();
  await waitFor(() => admin.streams.size === 0, { what: 'the stream closed' });
});

test('shutdown (streams.closeAll) ends open streams', async () => {
  const other = await startTestAdmin({ file: __filename });
  try {
    const otherClient = await other.login();
    const url = await other.listen();
    const sse = await openSse(`${url}/api/live`, otherClient.cookie);
    open.push(sse);
    await waitFor(() => other.streams.size === 1, { what: 'the stream open' });
    await other.streams.closeAll();
    await sse.ended;
    const refused = await openSse(`${url}/api/live`, otherClient.cookie);
    open.push(refused);
    await refused.ended;
    expect(refused.events.filter((e) => e.event === 'entries')).toEqual([]);
  } finally {
    await other.close();
  }
});

test.each([
  ['?channels=nope', undefined, 'channels'],
  ['?channels=logs,logs.dead', undefined, 'channels'],
  ['?from=garbage', undefined, 'from'],
  [`?from=${encodeURIComponent("logs=1-0' OR 1=1")}`, undefined, 'from'],
  ['', 'logs=1-0;events=<script>', 'Last-Event-ID'],
  ['?limit=5', undefined, 'limit'],
])('GET /api/live%s (Last-Event-ID %s): 400 naming %s', async (query, lastEventId, field) => {
  const answer = await client.agent.get(`/api/live${query}`).set(lastEventId ? { 'last-event-id': lastEventId } : {});
  expect(answer.status).toBe(400);
  expect(errorOf(answer).code).toBe('invalid_input');
  expect(fieldsOf(answer)).toContain(field);
});
