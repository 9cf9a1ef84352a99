import { waitFor } from '@mupets/testkit';
import {
  BrokerBackpressureError,
  BrokerClosedError,
  EnvelopeValidationError,
  InvalidNameError,
  type Broker,
} from '@mupets/broker';
import { backends, message, type PrivateServer } from './helpers';

describe.each(backends)('$name', (backend) => {
  const prefix = backend.prefixFor(__filename);
  let server: PrivateServer;
  let shared: Broker;
  const stored = async (address: string, channel: string): Promise<number[]> =>
    (await backend.read(address, prefix, channel)).map((entry) => (entry.envelope.data as { i: number }).i);

  beforeAll(async () => {
    // a private server: the back-pressure tests stop it
    server = await backend.startServer();
    shared = backend.brokerAt(backend.sharedAddress(), prefix);
    await shared.ready(10_000);
  });

  afterAll(async () => {
    await shared.close();
    await server.destroy();
  });

  test('a batch with one invalid message stores none of them, and the error names index, field and rule', async () => {
    const bad = [message(1), { type: 't', source: { service: 's' }, data: 'not an object' }, message(3)];
    const error = await shared.publish('limits', bad as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvelopeValidationError);
    expect((error as EnvelopeValidationError).issues).toEqual([
      expect.objectContaining({ path: '[1].data', rule: 'type' }),
    ]);
    expect(await backend.read(backend.sharedAddress(), prefix, 'limits')).toEqual([]);
  });

  test('an oversized message is rejected before it reaches the server', async () => {
    const broker = backend.brokerAt(backend.sharedAddress(), prefix, { maxMessageBytes: 1024 });
    try {
      await expect(broker.publish('limits', message(1, { message: 'x'.repeat(2000) }))).rejects.toThrow(
        /over the 1024-byte limit \[max_bytes\]/,
      );
      expect(await backend.read(backend.sharedAddress(), prefix, 'limits')).toEqual([]);
    } finally {
      await broker.close();
    }
  });

  test('bad channel and group names are refused with the rule', async () => {
    await expect(shared.publish('Bad Channel', message(1))).rejects.toBeInstanceOf(InvalidNameError);
    expect(() => shared.consume('ok', 'no spaces', () => undefined)).toThrow(/invalid group name.*1-48 chars/);
    expect(() => shared.tail('x'.repeat(49))).toThrow(InvalidNameError);
  });

  test('a full buffer tells the caller at once (reject mode) and nothing is dropped silently', async () => {
    const broker = backend.brokerAt(server.address, prefix, { maxBufferedMessages: 100, publishTimeoutMs: 60_000 });
    const accepted: Array<Promise<string>> = [];
    try {
      await broker.ready(10_000);
      await server.stop();
      accepted.push(...Array.from({ length: 100 }, (_, i) => broker.publish('full', message(i))));
      await expect(broker.publish('full', message(100))).rejects.toBeInstanceOf(BrokerBackpressureError);
      await expect(broker.publish('full', [message(101), message(102)])).rejects.toThrow(/publish buffer full/);
      expect(broker.buffered).toBe(100);
      await server.start();
      const ids = await Promise.all(accepted);
      expect(ids).toHaveLength(100);
      expect(await stored(server.address, 'full')).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await broker.close();
      await Promise.allSettled(accepted);
    }
  });

  test('in wait mode a publish waits for room instead of failing, and is stored once there is room', async () => {
    const broker = backend.brokerAt(server.address, prefix, {
      maxBufferedMessages: 10,
      publishTimeoutMs: 60_000,
      onBufferFull: 'wait',
    });
    const pending: Array<Promise<unknown>> = [];
    try {
      await broker.ready(10_000);
      await server.stop();
      const first = broker.publish(
        'wait',
        Array.from({ length: 10 }, (_, i) => message(i)),
      );
      let waitedOne = false;
      const waiting = broker.publish('wait', message(10)).then((id) => {
        waitedOne = true;
        return id;
      });
      pending.push(first, waiting);
      await waitFor(() => broker.buffered === 10, { what: 'buffer full' });
      expect(waitedOne).toBe(false);
      await server.start();
      await first;
      await waiting;
      expect(await stored(server.address, 'wait')).toEqual(Array.from({ length: 11 }, (_, i) => i));
    } finally {
      await broker.close();
      await Promise.allSettled(pending);
    }
  });

  test.each([
    ['publishBatchSize', 0],
    ['maxBufferedMessages', -1],
    ['publishTimeoutMs', 1.5],
    ['maxBufferedMessages', Number.NaN],
  ])('a publish option %s of %p is refused at creation, naming it and the rule', (option, value) => {
    // a batch size of 0 used to make the Redis publisher send empty batches forever
    expect(() => backend.brokerAt(backend.sharedAddress(), prefix, { [option]: value })).toThrow(
      new RangeError(`${option} must be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got ${value}`),
    );
  });

  test('after close() nothing more is accepted', async () => {
    const broker = backend.brokerAt(backend.sharedAddress(), prefix);
    await broker.publish('closed', message(1));
    await broker.close();
    await broker.close(); // idempotent
    await expect(broker.publish('closed', message(2))).rejects.toBeInstanceOf(BrokerClosedError);
  });
});
