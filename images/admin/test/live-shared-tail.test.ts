// Browsers following a channel share one broker tail (issue 14, item 4): the live handler's tails
// are counted on the real broker (the test Redis); the clients are plain HTTP SSE readers.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Broker, Envelope } from '@mupets/broker';
import { waitFor } from '@mupets/testkit';
import { createLiveRouter } from '../src/live/live.router';
import { LiveStreams } from '../src/live/live-streams';
import { silentLogger } from './browser/silent-logger';
import { countTails, type CountedTails } from './counting-tails';
import { startTestAdmin, type TestAdmin } from './helpers';
import { openSse, type SseClient } from './sse-client';

interface LiveEntry {
  channel: string;
  id: string;
  envelope: Envelope;
}

let admin: TestAdmin;
let tails: CountedTails;
let streams: LiveStreams;
let base: string;
let server: ReturnType<express.Express['listen']>;
const clients: SseClient[] = [];
/** Past this many entries queued for one client, it leaves the shared tail. */
const MAX_PENDING = 1000;

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename });
  tails = countTails(admin.broker);
  streams = new LiveStreams();
  const app = express();
  const broker = { range: admin.broker.range.bind(admin.broker), tail: tails.tail };
  app.use(
    '/live',
    createLiveRouter({
      broker,
      channels: ['logs', 'events'],
      streams,
      heartbeatMs: 60_000,
      maxPending: MAX_PENDING,
      logger: silentLogger,
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  clients.splice(0).forEach((sse) => sse.close());
  await waitFor(() => streams.size === 0 && tails.open.size === 0, { what: 'every stream and tail closed' });
});

afterAll(async () => {
  await streams.closeAll();
  await new Promise((resolve) => {
    server.close(resolve);
    server.closeAllConnections();
  });
  await admin.close();
});

async function follow(query: string): Promise<SseClient> {
  const sse = await openSse(`${base}/live${query}`, '');
  clients.push(sse);
  expect(sse.status).toBe(200);
  await waitFor(() => sse.events.some((e) => e.event === 'ready'), { what: 'the ready event' });
  return sse;
}

function entriesOf(sse: SseClient): LiveEntry[] {
  return sse.events.filter((e) => e.event === 'entries').flatMap((e) => JSON.parse(e.data) as LiveEntry[]);
}

async function publish(n: number, from = 0, message = ''): Promise<string[]> {
  const ids: string[] = [];
  for (let start = from; start < from + n; start += 500) {
    const batch = Array.from({ length: Math.min(500, from + n - start) }, (_, i) => ({
      type: 'live.shared',
      source: { service: 'live' },
      message: `${start + i} ${message}`,
    }));
    ids.push(...(await admin.broker.publish('logs', batch)));
  }
  return ids;
}

test('five browsers following a channel hold one tail, and each gets every entry once, in order', async () => {
  const browsers = await Promise.all(Array.from({ length: 5 }, () => follow('?channels=logs')));
  expect(tails.open.size).toBe(1);
  const ids = await publish(40);
  for (const sse of browsers) {
    await waitFor(() => entriesOf(sse).length >= 40, { what: 'all 40 entries' });
    expect(entriesOf(sse).map((e) => e.id)).toEqual(ids);
  }
  expect(tails.opened()).toBe(1);
  browsers.forEach((sse) => sse.close());
  // the last one out closes the shared tail
  await waitFor(() => tails.open.size === 0, { what: 'the shared tail closed' });
});

test('a reconnect with a recent cursor joins the shared tail; an older one reads alone; neither misses or repeats', async () => {
  const older = await publish(3);
  const staying = await follow('?channels=logs');
  const ids = await publish(10, 3);
  await waitFor(() => entriesOf(staying).length === 10, { what: 'the first ten entries' });
  const sharedBefore = tails.opened();

  const recent = await follow(`?channels=logs&from=${encodeURIComponent(`logs=${ids[3]}`)}`);
  expect(tails.opened()).toBe(sharedBefore);
  const alone = await follow(`?channels=logs&from=${encodeURIComponent(`logs=${older[0]}`)}`);
  expect(tails.opened()).toBe(sharedBefore + 1);
  expect(tails.open.size).toBe(2);

  const more = await publish(5, 13);
  await waitFor(() => entriesOf(recent).length >= 11 && entriesOf(alone).length >= 17, {
    what: 'the entries after each cursor',
  });
  expect(entriesOf(recent).map((e) => e.id)).toEqual([...ids.slice(4), ...more]);
  expect(entriesOf(alone).map((e) => e.id)).toEqual([...older.slice(1), ...ids, ...more]);
  expect(entriesOf(staying).map((e) => e.id)).toEqual([...ids, ...more]);
});

test('a browser that stops reading leaves the shared tail and catches up alone; the others are not held back', async () => {
  const reader = await follow('?channels=logs');
  // a client that does not read its socket: its entries queue on the server
  const stalled = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(`${base}/live?channels=logs`, { headers: { accept: 'text/event-stream' } }, resolve);
    req.on('error', reject);
    req.end();
  });
  stalled.pause();
  await waitFor(() => streams.size === 2, { what: 'both streams open' });
  expect(tails.open.size).toBe(1);

  // far more than the socket buffers hold (loopback's can take several MB): about 24 MB
  const ids = await publish(8000, 0, 'x'.repeat(3000));
  await waitFor(() => entriesOf(reader).length === ids.length, { timeoutMs: 30_000, what: 'the reader has all' });
  expect(entriesOf(reader).map((e) => e.id)).toEqual(ids);
  // the stalled client now follows on a tail of its own, from where its queue ended
  expect(tails.open.size).toBe(2);

  let text = '';
  stalled.setEncoding('utf8');
  stalled.on('data', (chunk: string) => (text += chunk));
  stalled.resume();
  const received = (): string[] =>
    text
      .split('\n\n')
      .slice(0, -1) // the last block may be half received
      .filter((block) => block.includes('event: entries'))
      .flatMap((block) => {
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        return data ? (JSON.parse(data.slice(6)) as LiveEntry[]).map((e) => e.id) : [];
      });
  await waitFor(() => received().length >= ids.length, { timeoutMs: 30_000, what: 'the stalled client caught up' });
  expect(received()).toEqual(ids);
  stalled.destroy();
});

test('a start-position read that fails for one channel leaves no shared tail open for the others', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const counted = countTails(admin.broker);
  const broker: Pick<Broker, 'tail' | 'range'> = {
    range: async (channel, options) => {
      if (channel === 'events') {
        throw new Error('range failed');
      }
      await gate; // logs: still reading when the request has failed already
      return admin.broker.range(channel, options);
    },
    tail: counted.tail,
  };
  const app = express();
  app.use(
    '/live',
    createLiveRouter({ broker, channels: ['logs', 'events'], streams, heartbeatMs: 60_000, logger: silentLogger }),
  );
  const failing = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => failing.once('listening', resolve));
  try {
    const sse = await openSse(`http://127.0.0.1:${(failing.address() as AddressInfo).port}/live`, '');
    clients.push(sse);
    expect(sse.status).toBe(500);
    release();
    await waitFor(() => counted.opened() === 1, { what: 'the logs feed opened after the request failed' });
    await waitFor(() => counted.open.size === 0, { timeoutMs: 5000, what: 'the logs feed closed again' });
  } finally {
    release();
    await new Promise((resolve) => {
      failing.close(resolve);
      failing.closeAllConnections();
    });
  }
});
