import type { Envelope } from '@mupets/broker';
import { waitFor } from '@mupets/testkit';
import { bodyOf, startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';
import { openSse, type SseClient } from './sse-client';

// The admin over the Kafka backbone (BROKER=kafka): the live stream, submit, dead letters.
let admin: TestAdmin;
let client: LoggedIn;
let base: string;
const open: SseClient[] = [];

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename, backend: 'kafka' });
  client = await admin.login();
  base = await admin.listen();
});

afterEach(() => {
  open.splice(0).forEach((sse) => sse.close());
});

afterAll(async () => {
  await admin.close();
});

interface LiveEntry {
  channel: string;
  id: string;
  envelope: Envelope;
}

const entriesOf = (sse: SseClient): LiveEntry[] =>
  sse.events.filter((e) => e.event === 'entries').flatMap((e) => JSON.parse(e.data) as LiveEntry[]);

async function connect(lastEventId?: string): Promise<SseClient> {
  const sse = await openSse(`${base}/api/live?channels=logs`, client.cookie, lastEventId);
  open.push(sse);
  await waitFor(() => sse.events.some((e) => e.event === 'ready'), { what: 'the ready event' });
  return sse;
}

const note = (n: number) => ({ type: 'kafka.live', source: { service: 'live' }, data: { n } });

test('live: an entry arrives; a reconnect with Last-Event-ID resumes with no gap and no duplicate', async () => {
  const first = await connect();
  const [a] = await admin.broker.publish('logs', [note(1)]);
  await waitFor(() => entriesOf(first).length === 1, { timeoutMs: 30_000, what: 'the first entry' });
  expect(entriesOf(first)[0]!.id).toBe(a);
  const cursor = first.events.filter((e) => e.event === 'entries').pop()!.id!;
  expect(cursor).toBe(`logs=${a}`);
  first.close();

  const missed = await admin.broker.publish('logs', [note(2), note(3)]);
  const second = await connect(cursor);
  await waitFor(() => entriesOf(second).length >= 2, { timeoutMs: 30_000, what: 'the missed entries' });
  expect(entriesOf(second).map((e) => e.id)).toEqual(missed);
});

test('submit, then a dead letter replayed: published again, removed false (Kafka keeps records)', async () => {
  const submit = await client.agent
    .post('/api/events')
    .set('x-csrf-token', client.csrfToken)
    .send({ channel: 'logs', type: 'will.fail', data: { k: 1 } });
  expect(submit.status).toBe(202);
  const { id } = bodyOf<{ id: string }>(submit);
  const consumer = admin.broker.consume(
    'logs',
    'picky',
    (batch) => ({
      failed: batch
        .filter((d) => d.envelope.id === id)
        .map((d) => ({ id: d.id, error: new Error('no'), deadLetter: true })),
    }),
    { blockMs: 50 },
  );
  const list = await waitFor(
    async () => {
      const answer = await client.agent.get('/api/broker/logs/dead-letters');
      const letters = bodyOf<{ deadLetters: Array<{ id: string; envelope: { id: string } | null }> }>(
        answer,
      ).deadLetters;
      return letters.length > 0 ? letters : undefined;
    },
    { timeoutMs: 30_000, what: 'the dead letter listed' },
  );
  await consumer.stop();
  expect(list[0]!.envelope!.id).toBe(id);
  const replay = await client.agent
    .post(`/api/broker/logs/dead-letters/${list[0]!.id}/replay`)
    .set('x-csrf-token', client.csrfToken);
  expect(replay.status).toBe(202);
  const { brokerId, removed } = bodyOf<{ brokerId: string; removed: boolean }>(replay);
  expect(removed).toBe(false);
  const [again] = await admin.broker.range('logs', { start: brokerId, end: brokerId });
  expect(again!.envelope).toMatchObject({ id, type: 'will.fail' });

  const stats = await client.agent.get('/api/broker');
  expect(bodyOf<{ backend: string }>(stats).backend).toBe('kafka');
});
