import { createRedisBroker, type Broker } from '@mupets/broker';
import { startRedisServer, testPrefix, waitFor, type RedisServer } from '@mupets/testkit';
import { attachBroker, createLogger, type Logger } from '../src';
import { lineSink } from './line-sink';
import { readChannel } from './read-channel';

const FAILING = 'log delivery to broker failing, logs are on stdout only until it is back';
const RESUMED = 'log delivery to broker resumed';

/**
 * The logger's broker transport keeps the service running with Redis down and delivers once Redis
 * is back, within its bound. Each test stops and restarts a private redis-server.
 */
describe('broker transport through a Redis outage', () => {
  let server: RedisServer;
  const cleanup: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) {
      await step();
    }
  });

  afterAll(async () => {
    await server.destroy();
  });

  function parsed(lines: string[]): Array<Record<string, unknown>> {
    return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  function start(options: { bound?: number; brokerLogsHere: boolean }) {
    const sink = lineSink();
    const logger: Logger = createLogger({ service: 'outage-it', stream: sink.stream });
    // a short publish timeout, so publishes fail fast while Redis is down
    const broker: Broker = createRedisBroker({
      url: server.url,
      keyPrefix: testPrefix(__filename),
      publishTimeoutMs: 1000,
      ...(options.brokerLogsHere ? { logger: logger.child({ component: 'broker' }) } : {}),
    });
    const transport = attachBroker(logger, broker, {
      maxBackoffMs: 500,
      ...(options.bound === undefined ? {} : { maxBuffered: options.bound }),
    });
    cleanup.push(
      () => {
        logger.close();
      },
      () => broker.close(),
    );
    return { sink, logger, broker, transport };
  }

  it('keeps logging while Redis is down and delivers every entry once it is back', async () => {
    const { sink, logger, broker, transport } = start({ brokerLogsHere: true });
    await broker.ready(10_000);
    await server.stop();

    const count = 300;
    expect(() => {
      for (let i = 0; i < count; i++) {
        logger.info('written while redis was down', { i });
      }
    }).not.toThrow();
    // log() only buffered: all entries are still here, nothing waited for Redis
    expect(transport.buffered).toBeGreaterThanOrEqual(count);
    expect(sink.lines.filter((line) => line.includes('written while redis was down'))).toHaveLength(count);

    await waitFor(() => parsed(sink.lines).some((entry) => entry.message === FAILING), { timeoutMs: 15_000 });
    // several failed attempts later (the broker reports each timed-out publish on stdout) ...
    await waitFor(
      () => parsed(sink.lines).filter((entry) => entry.message === 'publish timed out waiting for redis').length >= 2,
      { timeoutMs: 15_000 },
    );
    // ... the transport still said it only once
    expect(parsed(sink.lines).filter((entry) => entry.message === FAILING)).toHaveLength(1);

    await server.start();
    const delivered = await waitFor(
      async () => {
        const ours = (await readChannel(broker, 'logs')).filter(
          (envelope) => envelope.message === 'written while redis was down',
        );
        return ours.length >= count ? ours : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `${count} entries in the logs stream` },
    );
    expect(delivered.map((envelope) => envelope.data!.i)).toEqual([...Array(count).keys()]);
    await waitFor(() => parsed(sink.lines).some((entry) => entry.message === RESUMED));
    expect(parsed(sink.lines).find((entry) => entry.message === RESUMED)).toMatchObject({ dropped: 0 });
    expect(transport.dropped).toBe(0);

    // the broker's complaints about failed publishes stayed on stdout instead of looping back
    const archived = await readChannel(broker, 'logs');
    expect(archived.filter((envelope) => envelope.message === 'publish timed out waiting for redis')).toEqual([]);
    expect(archived.filter((envelope) => envelope.message === FAILING || envelope.message === RESUMED)).toEqual([]);
  });

  it('keeps only the newest entries beyond its bound, and reports how many it dropped', async () => {
    const bound = 100;
    const count = 250;
    const { sink, logger, broker, transport } = start({ bound, brokerLogsHere: false });
    await broker.ready(10_000);
    await server.stop();

    expect(() => {
      for (let i = 0; i < count; i++) {
        logger.info('overflow while redis was down', { i });
      }
    }).not.toThrow();
    expect(transport.buffered).toBe(bound);
    expect(transport.dropped).toBe(count - bound);
    // stdout has every entry, dropped or not
    expect(sink.lines.filter((line) => line.includes('overflow while redis was down'))).toHaveLength(count);
    await waitFor(() => parsed(sink.lines).some((entry) => entry.message === FAILING), { timeoutMs: 15_000 });

    await server.start();
    await waitFor(() => parsed(sink.lines).some((entry) => entry.message === RESUMED), { timeoutMs: 30_000 });
    await waitFor(async () => (await readChannel(broker, 'logs')).length >= bound, { intervalMs: 200 });
    const delivered = await readChannel(broker, 'logs');
    expect(delivered.map((envelope) => envelope.data!.i)).toEqual(
      Array.from({ length: bound }, (_, k) => count - bound + k),
    );
    expect(parsed(sink.lines).find((entry) => entry.message === RESUMED)).toMatchObject({ dropped: count - bound });
    expect(transport.dropped).toBe(count - bound);
  });
});
