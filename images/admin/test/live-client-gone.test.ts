// A client that leaves while the live handler is still awaiting its start position must leave
// nothing behind: no Redis tail, no open stream (issue 14, item 4). The broker is the real one on
// the test Redis; only its `range` waits for the test's go, so the client can leave exactly then.
import { request as httpRequest } from 'node:http';
import express from 'express';
import type { Broker } from '@mupets/broker';
import { waitFor } from '@mupets/testkit';
import { createLiveRouter } from '../src/live/live.router';
import { LiveStreams } from '../src/live/live-streams';
import { silentLogger } from './browser/silent-logger';
import { countTails } from './counting-tails';
import { startTestAdmin, type TestAdmin } from './helpers';

let admin: TestAdmin;

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename });
});

afterAll(async () => {
  await admin.close();
});

test('a client gone during the start-position read: no tail is left open, no stream is registered', async () => {
  const real = admin.broker;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let rangeCalled = false;
  let handlerResumed = false;
  const counted = countTails(real);
  const tails = counted.open;
  const broker: Pick<Broker, 'tail' | 'range'> = {
    range: async (channel, options) => {
      rangeCalled = true;
      await gate;
      const entries = await real.range(channel, options);
      // the handler goes on once this resolves, in the same turn
      setImmediate(() => (handlerResumed = true));
      return entries;
    },
    tail: counted.tail,
  };
  const streams = new LiveStreams();
  const app = express();
  app.use(
    '/live',
    createLiveRouter({ broker, channels: ['logs'], streams, heartbeatMs: 60_000, logger: silentLogger }),
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  try {
    const serverSawClose = new Promise<void>((resolve) => {
      server.once('request', (_request, response) => response.once('close', () => resolve()));
    });
    const client = httpRequest({ host: '127.0.0.1', port, path: '/live' });
    client.on('error', () => undefined);
    client.end();
    await waitFor(() => rangeCalled, { what: 'the handler awaiting its start position' });
    client.destroy();
    await serverSawClose;
    release();

    // the handler finished after the client left: whatever it opened is closed again
    await waitFor(() => handlerResumed, { what: 'the handler past its start-position read' });
    await waitFor(() => tails.size === 0 && streams.size === 0, {
      timeoutMs: 5000,
      what: 'no tail and no stream left open',
    });
    expect({ open: tails.size, streams: streams.size }).toEqual({ open: 0, streams: 0 });
    // the channel's shared tail, opened with the start position, closed again with its only follower
    expect(counted.opened()).toBe(1);
  } finally {
    release();
    await streams.closeAll();
    await Promise.all([...tails].map((tail) => tail.close()));
    await new Promise((resolve) => {
      server.close(resolve);
      server.closeAllConnections();
    });
  }
});
