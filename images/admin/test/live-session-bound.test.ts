// Live streams belong to their session: they end at logout, and there is a cap per session and
// overall (issue 14, item 4). Real admin app, real Redis, real HTTP.
import { waitFor } from '@mupets/testkit';
import { startTestAdmin, type TestAdmin } from './helpers';
import { openSse, type SseClient } from './sse-client';

let admin: TestAdmin;
let base: string;
const open: SseClient[] = [];

beforeAll(async () => {
  admin = await startTestAdmin({
    file: __filename,
    env: { ADMIN_MAX_STREAMS_PER_SESSION: '2', ADMIN_MAX_STREAMS: '3' },
  });
  base = await admin.listen();
});

afterEach(() => {
  open.splice(0).forEach((sse) => sse.close());
});

afterAll(async () => {
  await admin.close();
});

async function live(cookie: string): Promise<SseClient> {
  const sse = await openSse(`${base}/api/live`, cookie);
  open.push(sse);
  if (sse.status === 200) {
    await waitFor(() => sse.events.some((event) => event.event === 'ready'), { what: 'the ready event' });
  }
  return sse;
}

test('logout ends the live streams of that session, and only those', async () => {
  const leaving = await admin.login();
  const staying = await admin.login();
  const mine = await live(leaving.cookie);
  const theirs = await live(staying.cookie);
  const answer = await leaving.agent.post('/api/logout').set('x-csrf-token', leaving.csrfToken);
  expect(answer.status).toBe(204);
  await mine.ended;
  expect(theirs.isEnded).toBe(false);
  expect(admin.streams.size).toBe(1);
});

test('streams per session (ADMIN_MAX_STREAMS_PER_SESSION) and overall (ADMIN_MAX_STREAMS) are capped: 429 over the cap', async () => {
  const first = await admin.login();
  expect((await live(first.cookie)).status).toBe(200);
  expect((await live(first.cookie)).status).toBe(200);
  const third = await live(first.cookie);
  expect(third.status).toBe(429);
  const second = await admin.login();
  expect((await live(second.cookie)).status).toBe(200);
  // 3 open overall: a fresh session is refused too
  const third2 = await live((await admin.login()).cookie);
  expect(third2.status).toBe(429);
  // a closed stream frees its place
  open[0]!.close();
  await waitFor(() => admin.streams.size === 2, { what: 'the closed stream gone' });
  expect((await live(first.cookie)).status).toBe(200);
});
