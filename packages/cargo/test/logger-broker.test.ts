import { createRedisBroker, type Broker } from '@mupets/broker';
import { redisUrl, testPrefix, waitFor } from '@mupets/testkit';
import { attachBroker, createLogger, flushLogs, type Logger } from '../src';
import { lineSink } from './line-sink';
import { readChannel } from './read-channel';

describe('logger with a real broker', () => {
  let broker: Broker;
  let logger: Logger;
  const sink = lineSink();

  beforeAll(async () => {
    // the usual start-up order: logger first, the broker logs through it, then the transport
    logger = createLogger({ service: 'cargo-it', instance: 'it-1', stream: sink.stream });
    broker = createRedisBroker({
      url: redisUrl(),
      keyPrefix: testPrefix(__filename),
      logger: logger.child({ component: 'broker' }),
    });
    attachBroker(logger, broker);
    await broker.ready(10_000);
  });

  afterAll(async () => {
    logger.close();
    await broker.close();
  });

  it('delivers entries to the logs stream as log envelopes, secrets redacted', async () => {
    const log = logger.child({ component: 'archiver' });
    log.info('batch archived', { count: 3, ms: 12 });
    log.warn('slow write', { password: 'hunter2', target: { url: 'orientdb://db', token: 'abc' } });
    log.error('write failed', { error: new Error('timeout', { cause: new Error('socket hang up') }) });
    expect(await flushLogs(logger, 10_000)).toBe(true);

    const envelopes = await waitFor(async () => {
      const all = await readChannel(broker, 'logs');
      return all.length >= 3 ? all : undefined;
    });
    expect(envelopes.map((envelope) => [envelope.level, envelope.message])).toEqual([
      ['info', 'batch archived'],
      ['warn', 'slow write'],
      ['error', 'write failed'],
    ]);
    const [archived, slow, failed] = envelopes;
    expect(archived).toMatchObject({
      channel: 'logs',
      type: 'log',
      v: 1,
      source: { service: 'cargo-it', instance: 'it-1' },
      data: { component: 'archiver', count: 3, ms: 12 },
    });
    expect(typeof archived!.source.host).toBe('string');
    expect(slow!.data).toEqual({
      component: 'archiver',
      password: '[REDACTED]',
      target: { url: 'orientdb://db', token: '[REDACTED]' },
    });
    expect(failed!.data!.error).toMatchObject({
      name: 'Error',
      message: 'timeout',
      cause: { message: 'socket hang up' },
    });
    // and every entry also went to stdout
    expect(sink.lines.filter((line) => line.includes('"service":"cargo-it"'))).toHaveLength(3);
  });
});
