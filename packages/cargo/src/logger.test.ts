import type { Broker, MessageInput } from '@mupets/broker';
import { createLogger, flushLogs, LOG_LEVELS, type LoggerOptions } from './logger';
import { redactSecrets } from './redact';
import { lineSink } from '../test/line-sink';

function jsonLogger(options: Partial<LoggerOptions> = {}) {
  const sink = lineSink();
  const logger = createLogger({ service: 'svc', stream: sink.stream, ...options });
  const entries = () => sink.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines: sink.lines, entries };
}

describe('createLogger', () => {
  it('writes one JSON object per line: timestamp, level, message, service, then metadata', () => {
    const { logger, lines } = jsonLogger({ instance: 'svc-1' });
    logger.info('batch archived', { count: 3, ms: 12 });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(entry).slice(0, 4)).toEqual(['timestamp', 'level', 'message', 'service']);
    expect(entry).toMatchObject({
      level: 'info',
      message: 'batch archived',
      service: 'svc',
      instance: 'svc-1',
      count: 3,
      ms: 12,
    });
    expect(new Date(entry.timestamp as string).toISOString()).toBe(entry.timestamp);
  });

  it('writes every level to stdout and nothing to stderr by default', () => {
    const logger = createLogger({ service: 'svc', level: 'silly' });
    const out: string[] = [];
    const err: string[] = [];
    // stdout and stderr are observed, not the logger: the spies only record what reaches them
    const stdout = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => out.push(String(chunk)) > 0);
    const stderr = jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => err.push(String(chunk)) > 0);
    try {
      for (const level of LOG_LEVELS) {
        logger.log(level, 'probe', { probe: level });
      }
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(err).toEqual([]);
    expect(out.map((line) => (JSON.parse(line) as { level: string }).level)).toEqual([...LOG_LEVELS]);
  });

  it('honours the level', () => {
    const { logger, entries } = jsonLogger({ level: 'warn' });
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    expect(entries().map((entry) => entry.message)).toEqual(['shown']);
  });

  it('child loggers add their component', () => {
    const { logger, entries } = jsonLogger();
    logger.child({ component: 'consumer' }).info('started', { group: 'g' });
    expect(entries()[0]).toMatchObject({ service: 'svc', component: 'consumer', message: 'started', group: 'g' });
  });

  it('redacts secret-looking keys at any depth, arrays included, without touching the caller’s object', () => {
    const { logger, lines, entries } = jsonLogger();
    const meta = {
      user: 'ann',
      password: 'p4ss',
      headers: { Authorization: 'Bearer abc', cookie: 'sid=1', accept: 'json' },
      clients: [
        { name: 'a', apiKey: 'k1' },
        { name: 'b', 'api-key': 'k2', nested: [{ refresh_token: 't' }] },
      ],
      db: { passwd: 'x', clientSecret: 'y' },
    };
    logger.info('request', meta);
    expect(entries()[0]).toMatchObject({
      user: 'ann',
      password: '[REDACTED]',
      headers: { Authorization: '[REDACTED]', cookie: '[REDACTED]', accept: 'json' },
      clients: [
        { name: 'a', apiKey: '[REDACTED]' },
        { name: 'b', 'api-key': '[REDACTED]', nested: [{ refresh_token: '[REDACTED]' }] },
      ],
      db: { passwd: '[REDACTED]', clientSecret: '[REDACTED]' },
    });
    for (const secret of ['p4ss', 'Bearer abc', 'sid=1', 'k1', 'k2', '"t"', '"x"', '"y"']) {
      expect(lines[0]).not.toContain(secret);
    }
    expect(meta.password).toBe('p4ss');
    expect(meta.clients[1]!.nested![0]!.refresh_token).toBe('t');
  });

  it('serializes Errors in metadata with name, message, stack and cause', () => {
    const { logger, entries } = jsonLogger();
    const root = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const error = new TypeError('publish failed', { cause: root });
    logger.error('publish failed', { error });
    const logged = entries()[0]!.error as Record<string, unknown>;
    expect(logged).toMatchObject({ name: 'TypeError', message: 'publish failed' });
    expect(logged.stack).toContain('TypeError: publish failed');
    expect(logged.cause).toMatchObject({ name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' });
    expect((logged.cause as { stack: string }).stack).toContain('connect ECONNREFUSED');
  });

  it('keeps stack and cause when the Error itself is logged', () => {
    const { logger, entries } = jsonLogger();
    logger.error(new Error('boom', { cause: new Error('root cause') }));
    logger.error('failed', new RangeError('out of range'));
    const [direct, asMeta] = entries();
    expect(direct).toMatchObject({ level: 'error', message: 'boom', cause: { message: 'root cause' } });
    expect(direct!.stack).toContain('Error: boom');
    expect(asMeta!.stack).toContain('RangeError: out of range');
  });

  it('never throws on circular, BigInt or throwing metadata', () => {
    const { logger, entries } = jsonLogger();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    expect(() => logger.info('odd values', { circular, big: 2n ** 70n, hostile })).not.toThrow();
    expect(entries()[0]).toMatchObject({
      circular: { name: 'loop', self: '[Circular]' },
      big: '1180591620717411303424',
      hostile: '[Unserializable: getter exploded]',
    });
  });

  it('pretty format writes one readable line per entry', () => {
    const sink = lineSink();
    const logger = createLogger({ service: 'svc', format: 'pretty', stream: sink.stream });
    logger.child({ component: 'consumer' }).warn('batch failed\nretrying', {
      count: 3,
      reason: 'two words',
      token: 'abc',
      error: new Error('multi\nline'),
    });
    logger.info('plain');
    expect(sink.lines).toHaveLength(2);
    expect(sink.lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn {2}\[svc\/consumer\] batch failed\\nretrying count=3 reason="two words" token=\[REDACTED\] error=\{/,
    );
    expect(sink.lines[1]).toMatch(
      /Z info {2}\[svc\] plain envelopeId=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('prints on stdout the envelope id the broker transport publishes, one per entry', async () => {
    const published: MessageInput[] = [];
    const broker: Pick<Broker, 'publish'> = {
      publish: ((_channel: string, input: MessageInput | readonly MessageInput[]) => {
        const batch = Array.isArray(input) ? input : [input];
        published.push(...(batch as MessageInput[]));
        return Promise.resolve(batch.map((_, index) => `1-${index}`));
      }) as Broker['publish'],
    };
    const { logger, entries } = jsonLogger({ broker });
    logger.info('first', { id: 'the caller’s own id field' });
    logger.child({ component: 'c' }).warn('second');
    expect(await flushLogs(logger, 2000)).toBe(true);
    const stdout = entries();
    expect(stdout).toHaveLength(2);
    expect(stdout[0]).toMatchObject({ message: 'first', id: 'the caller’s own id field' });
    expect(stdout.map((entry) => entry.envelopeId)).toEqual(published.map((message) => message.id));
    expect(new Set(published.map((message) => message.id)).size).toBe(2);
    expect(published[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // the id is the envelope's, not part of the entry's data
    expect(published[0]!.data).not.toHaveProperty('envelopeId');
  });

  it('refuses a logger without a service name', () => {
    expect(() => createLogger({ service: '' })).toThrow(TypeError);
  });
});

describe('redactSecrets', () => {
  it('handles Maps, Sets, URLs with credentials and Dates', () => {
    const value = redactSecrets({
      map: new Map<string, unknown>([
        ['password', 'x'],
        ['ok', new Set([1, { token: 'y' }])],
      ]),
      url: new URL('redis://user:hunter2@cache:6379/0'),
      at: new Date('2026-01-02T03:04:05.000Z'),
    });
    expect(value).toEqual({
      map: { password: '[REDACTED]', ok: [1, { token: '[REDACTED]' }] },
      url: 'redis://cache:6379/0',
      at: '2026-01-02T03:04:05.000Z',
    });
  });

  it('keeps an object seen twice (not a cycle) in both places', () => {
    const shared = { a: 1 };
    expect(redactSecrets({ x: shared, y: [shared] })).toEqual({ x: { a: 1 }, y: [{ a: 1 }] });
  });

  it('serializes AggregateError members and nested causes', () => {
    const error = new AggregateError([new Error('one'), new Error('two', { cause: 'text cause' })], 'both failed');
    expect(redactSecrets({ error })).toMatchObject({
      error: {
        name: 'AggregateError',
        message: 'both failed',
        errors: [{ message: 'one' }, { message: 'two', cause: 'text cause' }],
      },
    });
  });
});
