import { Writable } from 'node:stream';
import {
  buildEnvelope,
  BrokerClosedError,
  BrokerUnavailableError,
  DEFAULT_MAX_MESSAGE_BYTES,
  EnvelopeValidationError,
  serializeEnvelope,
  type EnvelopeIssue,
  type Broker,
  type Envelope,
  type MessageInput,
} from '@mupets/broker';
import { waitFor } from '@mupets/testkit';
import type { BrokerTransport } from './broker-transport';
import { attachBroker, createLogger, type BrokerTransportSettings, type Logger } from './logger';

/**
 * A stand-in for the broker (the broker is not what these tests are about). It validates and
 * serializes like the real one, all or nothing per call, and can be switched off.
 */
class FakeBroker implements Pick<Broker, 'publish'> {
  down = false;
  closed = false;
  calls = 0;
  failures = 0;
  readonly batches: Envelope[][] = [];
  onPublish: (() => void) | undefined;

  get stored(): Envelope[] {
    return this.batches.flat();
  }

  publish(channel: string, message: MessageInput): Promise<string>;
  publish(channel: string, messages: readonly MessageInput[]): Promise<string[]>;
  async publish(channel: string, input: MessageInput | readonly MessageInput[]): Promise<string | string[]> {
    this.calls += 1;
    this.onPublish?.();
    await Promise.resolve();
    if (this.closed) {
      throw new BrokerClosedError();
    }
    if (this.down) {
      this.failures += 1;
      throw new BrokerUnavailableError('redis unavailable');
    }
    const messages = Array.isArray(input) ? input : [input as MessageInput];
    const issues: EnvelopeIssue[] = [];
    const envelopes = messages.map((message, index) => {
      try {
        const envelope = buildEnvelope(channel, message);
        serializeEnvelope(envelope, DEFAULT_MAX_MESSAGE_BYTES);
        return envelope;
      } catch (error) {
        if (!(error instanceof EnvelopeValidationError)) {
          throw error;
        }
        issues.push(
          ...error.issues.map((issue) => ({ ...issue, path: `[${index}]${issue.path ? `.${issue.path}` : ''}` })),
        );
        return undefined;
      }
    });
    if (issues.length > 0) {
      throw new EnvelopeValidationError(issues);
    }
    this.batches.push(envelopes as Envelope[]);
    const ids = envelopes.map((_, i) => `${this.batches.length}-${i}`);
    return Array.isArray(input) ? ids : ids[0]!;
  }
}

interface Setup {
  broker: FakeBroker;
  logger: Logger;
  transport: BrokerTransport;
  lines: string[];
  notices: (message: string) => Record<string, unknown>[];
}

const open: Logger[] = [];

function setup(settings: BrokerTransportSettings = {}): Setup {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const broker = new FakeBroker();
  const logger = createLogger({ service: 'svc', instance: 'svc-1', stream });
  const transport = attachBroker(logger, broker, { minBackoffMs: 1, maxBackoffMs: 10, ...settings });
  open.push(logger);
  const notices = (message: string) =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.message === message);
  return { broker, logger, transport, lines, notices };
}

const FAILING = 'log delivery to broker failing, logs are on stdout only until it is back';
const RESUMED = 'log delivery to broker resumed';

afterEach(() => {
  for (const logger of open.splice(0)) {
    logger.close();
  }
});

describe('BrokerTransport', () => {
  it('turns entries into log envelopes, without the fields the envelope carries itself', async () => {
    const { broker, logger } = setup();
    logger.child({ component: 'consumer' }).warn('batch failed', { count: 3, nested: { ok: true } });
    await waitFor(() => broker.stored.length === 1);
    const [envelope] = broker.stored;
    expect(envelope).toMatchObject({
      channel: 'logs',
      type: 'log',
      level: 'warn',
      message: 'batch failed',
      source: { service: 'svc', instance: 'svc-1', host: expect.any(String) as string },
      data: { component: 'consumer', count: 3, nested: { ok: true } },
    });
    expect(Object.keys(envelope!.data!).sort()).toEqual(['component', 'count', 'nested']);
  });

  it('publishes in batches of at most batchSize, in order', async () => {
    const { broker, logger } = setup({ batchSize: 500 });
    for (let i = 0; i < 1200; i++) {
      logger.info('entry', { i });
    }
    await waitFor(() => broker.stored.length === 1200);
    expect(broker.batches.map((batch) => batch.length)).toEqual([500, 500, 200]);
    expect(broker.stored.map((envelope) => envelope.data!.i)).toEqual([...Array(1200).keys()]);
  });

  it('returns at once and never throws while the broker is down', async () => {
    const { broker, logger, transport } = setup();
    broker.down = true;
    let pending = 0;
    broker.onPublish = () => {
      pending += 1;
    };
    expect(() => {
      for (let i = 0; i < 100; i++) {
        logger.info('while down', { i });
      }
    }).not.toThrow();
    expect(transport.buffered).toBe(100);
    await waitFor(() => broker.failures >= 3);
    expect(pending).toBeGreaterThanOrEqual(3);
    expect(transport.buffered).toBe(100);
  });

  it('drops the oldest entries beyond the bound, counts them, and reports them on recovery', async () => {
    const { broker, logger, transport, notices } = setup({ maxBuffered: 10, batchSize: 4 });
    broker.down = true;
    for (let i = 0; i < 25; i++) {
      logger.info('entry', { i });
    }
    await waitFor(() => broker.failures >= 2);
    expect(transport.buffered).toBe(10);
    expect(transport.dropped).toBe(15);
    broker.down = false;
    await waitFor(() => notices(RESUMED).length === 1);
    expect(broker.stored.map((envelope) => envelope.data!.i)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(notices(RESUMED)[0]).toMatchObject({ level: 'info', dropped: 15, component: 'broker-transport' });
  });

  it('says once that delivery is failing, and once that it resumed', async () => {
    const { broker, logger, notices } = setup();
    broker.down = true;
    logger.info('first');
    await waitFor(() => broker.failures >= 5);
    logger.info('second');
    await waitFor(() => broker.failures >= 8);
    expect(notices(FAILING)).toHaveLength(1);
    expect(notices(FAILING)[0]).toMatchObject({ level: 'warn', channel: 'logs', error: 'redis unavailable' });
    broker.down = false;
    await waitFor(() => broker.stored.length === 2);
    await waitFor(() => notices(RESUMED).length === 1);
    // the notices themselves stay on stdout
    expect(broker.stored.map((envelope) => envelope.message)).toEqual(['first', 'second']);
    logger.info('third');
    await waitFor(() => broker.stored.length === 3);
    expect(notices(FAILING)).toHaveLength(1);
    expect(notices(RESUMED)).toHaveLength(1);
  });

  it('does not feed what the broker logs while publishing back into the broker', async () => {
    const { broker, logger, lines } = setup();
    const brokerLog = logger.child({ component: 'broker' });
    broker.down = true;
    // like the real broker: it logs about its own failures, both synchronously and later
    broker.onPublish = () => {
      brokerLog.warn('publish failed, will retry');
      setImmediate(() => brokerLog.debug('still retrying'));
      void Promise.resolve().then(() => brokerLog.warn('publish timed out waiting for redis'));
    };
    logger.info('service entry');
    await waitFor(() => broker.failures >= 5);
    const callsWhileDown = broker.calls;
    broker.onPublish = undefined;
    broker.down = false;
    await waitFor(() => broker.stored.length >= 1);
    await waitFor(() => lines.some((line) => line.includes(RESUMED)));
    expect(broker.stored.map((envelope) => envelope.message)).toEqual(['service entry']);
    // every attempt was a retry of the same entry, not a publish of the broker's own complaints
    expect(callsWhileDown).toBe(broker.failures);
    expect(lines.filter((line) => line.includes('publish failed, will retry')).length).toBeGreaterThanOrEqual(5);
  });

  it('makes unserializable metadata JSON-safe instead of losing the batch', async () => {
    const { broker, logger } = setup();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    logger.info('before');
    logger.info('odd', { big: 10n, circular, fn: () => 1, sym: Symbol('s'), nan: Number.NaN });
    logger.info('huge', { blob: 'x'.repeat(100 * 1024) });
    logger.info('after');
    await waitFor(() => broker.stored.length === 4);
    const [before, odd, huge, after] = broker.stored;
    expect(before!.message).toBe('before');
    expect(odd!.data).toEqual({ big: '10', circular: { name: 'loop', self: '[Circular]' }, nan: null });
    expect(huge!.data).toMatchObject({ truncated: true });
    expect(after!.message).toBe('after');
  });

  it('cuts an entry the broker refuses down to a minimal envelope, keeping the rest of the batch', async () => {
    const { broker, logger } = setup();
    logger.info('ok 1');
    // each part is under its own limit, together they exceed the broker's 64 KiB envelope limit
    logger.info('€'.repeat(10_000), { blob: 'x'.repeat(40 * 1024) });
    logger.info('ok 2');
    await waitFor(() => broker.stored.length === 3);
    const messages = broker.stored.map((envelope) => envelope.message!);
    expect(messages[0]).toBe('ok 1');
    expect(messages[1]!.length).toBeLessThanOrEqual(1024);
    expect(broker.stored[1]!.data).toEqual({
      envelopeRejected: expect.stringContaining('over the 65536-byte limit') as string,
    });
    expect(messages[2]).toBe('ok 2');
  });

  it('maps winston levels to broker levels, and fatal-marked errors to fatal', async () => {
    const { broker, logger } = setup();
    logger.level = 'silly';
    for (const level of ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']) {
      logger.log(level, 'probe');
    }
    logger.error('crash', { fatal: true });
    await waitFor(() => broker.stored.length === 8);
    expect(broker.stored.map((envelope) => envelope.level)).toEqual([
      'error',
      'warn',
      'info',
      'http',
      'verbose',
      'debug',
      'silly',
      'fatal',
    ]);
  });

  it('stops delivering once the broker was closed on purpose', async () => {
    const { broker, logger, transport, notices } = setup();
    broker.closed = true;
    logger.info('after close');
    await waitFor(() => notices('broker closed, log delivery stopped').length === 1);
    expect(notices('broker closed, log delivery stopped')[0]).toMatchObject({ undelivered: 1 });
    expect(notices(FAILING)).toEqual([]);
    const calls = broker.calls;
    logger.info('ignored by the transport, still on stdout');
    expect(transport.buffered).toBe(0);
    expect(await transport.flush(50)).toBe(true);
    expect(broker.calls).toBe(calls);
  });

  it('flush delivers what is buffered, and gives up at its timeout while the broker is down', async () => {
    const { broker, logger, transport } = setup({ minBackoffMs: 1000, maxBackoffMs: 1000 });
    broker.down = true;
    logger.info('held');
    await waitFor(() => broker.failures >= 1);
    expect(await transport.flush(50)).toBe(false);
    broker.down = false;
    // the transport sits in a 1 s back-off; flush must retry at once instead of waiting it out
    expect(await transport.flush(500)).toBe(true);
    expect(broker.stored.map((envelope) => envelope.message)).toEqual(['held']);
  });
});
