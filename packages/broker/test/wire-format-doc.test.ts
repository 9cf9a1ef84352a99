import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kafkaBrokers, redisUrl, waitFor, writeKafkaToolScripts } from '@mupets/testkit';
import { entryEnvelopeId, type Consumer, type Delivery, type StreamEntry } from '@mupets/broker';
import { brokerPerFile, kafkaBackend, redisBackend } from './helpers';
// a Redis id's time: these tests check the Redis wire format itself
import { streamIdTime } from '../src/redis/stream-id';

// docs/wire-format.md's examples, run as written: the doc and this test cannot drift apart
const DOC = join(__dirname, '..', '..', '..', 'docs', 'wire-format.md');
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Example {
  readonly lang: string;
  readonly code: string;
}

/** The fenced blocks whose info string carries `example=<name>`. */
function examples(): Map<string, Example> {
  const found = new Map<string, Example>();
  for (const [, lang, name, code] of readFileSync(DOC, 'utf8').matchAll(
    /^```(\w+) example=([\w-]+)\n([\s\S]*?)^```$/gm,
  )) {
    if (found.has(name!)) {
      throw new Error(`docs/wire-format.md has two blocks marked example=${name}`);
    }
    found.set(name!, { lang: lang!, code: code! });
  }
  return found;
}

const docExamples = examples();

/** Runs one example with the interpreter its fence names; resolves with what it printed. */
async function run(name: string, env: Record<string, string>): Promise<string> {
  const example = docExamples.get(name);
  if (!example) {
    throw new Error(`docs/wire-format.md has no example=${name}`);
  }
  const [command, args] =
    example.lang === 'sh'
      ? ['bash', ['-euo', 'pipefail', '-c', example.code]]
      : ['/usr/bin/python3', ['-c', example.code]];
  const { stdout } = await promisify(execFile)(command, args, {
    env: { ...process.env, ...env },
    timeout: 90_000,
  });
  return stdout.trim();
}

test('the document has the examples this test runs, each with a known interpreter', () => {
  expect([...docExamples.keys()].sort()).toEqual(
    ['kafka-minimal', 'kafka-topic', 'python-redis', 'redis-complete', 'redis-dead-letter', 'redis-minimal'].sort(),
  );
  for (const example of docExamples.values()) {
    expect(['sh', 'python']).toContain(example.lang);
  }
});

describe('redis: redis-cli and Python', () => {
  const file = brokerPerFile(__filename, redisBackend);
  let consumer: Consumer | undefined;
  afterAll(async () => {
    await consumer?.stop();
  });

  test('a consumer group receives the examples completed, and the bad one as a dead letter', async () => {
    const env = { REDIS_URL: redisUrl(), BROKER_KEY_PREFIX: file.prefix };
    const key = `${file.prefix}events`;
    const delivered: Delivery[] = [];
    consumer = file.broker.consume('events', 'doc', (batch) => void delivered.push(...batch), { blockMs: 50 });

    const minimalId = await run('redis-minimal', env);
    const completeId = await run('redis-complete', env);
    const badId = await run('redis-dead-letter', env);
    const [pythonId, pythonEnvelopeId] = (await run('python-redis', env)).split(' ');

    await waitFor(() => delivered.length === 3, { what: 'three entries delivered to the group' });
    const dead: StreamEntry[] = [];
    for await (const entry of file.broker.tail('events.dead', { fromId: '0', blockMs: 100 })) {
      dead.push(entry);
      break;
    }
    expect(delivered.map((d) => d.id)).toEqual([minimalId, completeId, pythonId]);
    const tsOf = (id: string): string => new Date(streamIdTime(id)).toISOString();

    expect(delivered[0]!.envelope).toEqual({
      id: entryEnvelopeId(key, minimalId),
      channel: 'events',
      type: 'order.created',
      ts: tsOf(minimalId),
      source: { service: 'py-shop' },
      data: { order: 1 },
      v: 1,
    });
    expect(delivered[0]!.envelope.id).toMatch(UUID_V5);
    expect(delivered[1]!.envelope).toEqual({
      id: 'py-shop-order-2',
      channel: 'events',
      type: 'order.created',
      ts: '2026-01-01T12:00:00.000Z',
      source: { service: 'py-shop', instance: 'web-1' },
      level: 'info',
      message: 'order 2 created',
      data: { order: 2 },
      v: 1,
    });
    // the id Python's uuid.uuid5 predicted is the one the consumer got
    expect(delivered[2]!.envelope).toEqual({
      id: pythonEnvelopeId,
      channel: 'events',
      type: 'order.paid',
      ts: tsOf(pythonId!),
      source: { service: 'py-shop' },
      level: 'info',
      message: 'order 4 paid',
      data: { order: 4, total: 12.5 },
      v: 1,
    });

    expect(dead[0]!.envelope).toMatchObject({
      id: `events:${badId}:doc`,
      channel: 'events.dead',
      type: 'dead-letter',
      message: expect.stringMatching(/source: .*\[required\]/),
      data: {
        originalChannel: 'events',
        originalId: badId,
        group: 'doc',
        deliveries: 1,
        error: {
          name: 'EnvelopeValidationError',
          issues: [expect.objectContaining({ path: 'source', rule: 'required' })],
        },
        rawFields: ['e', '{"type":"order.created"}'],
      },
    });
  });
});

describe("kafka: Kafka's console tools", () => {
  const file = brokerPerFile(__filename, kafkaBackend);
  const tools = mkdtempSync(join(tmpdir(), 'mupets-kafka-tools-'));
  let consumer: Consumer | undefined;
  afterAll(async () => {
    await consumer?.stop();
    rmSync(tools, { recursive: true, force: true });
  });

  test('a consumer group receives the console producer record completed', async () => {
    writeKafkaToolScripts(tools);
    const env = {
      KAFKA_BROKERS: kafkaBrokers(),
      BROKER_KEY_PREFIX: file.prefix,
      PATH: `${tools}:${process.env.PATH ?? ''}`,
    };
    await run('kafka-topic', env);
    const delivered: Delivery[] = [];
    consumer = file.broker.consume('events', 'doc', (batch) => void delivered.push(...batch), { blockMs: 50 });
    const before = Date.now();
    await run('kafka-minimal', env);
    const after = Date.now();

    await waitFor(() => delivered.length === 1, { timeoutMs: 60_000, what: 'the record delivered to the group' });
    const [delivery] = delivered;
    expect(delivery!.envelope).toEqual({
      id: entryEnvelopeId(`${file.prefix}events`, delivery!.id),
      channel: 'events',
      type: 'order.created',
      ts: expect.any(String),
      source: { service: 'py-shop' },
      data: { order: 3 },
      v: 1,
    });
    expect(delivery!.envelope.id).toMatch(UUID_V5);
    // the record timestamp: set by the console producer while it ran
    expect(Date.parse(delivery!.envelope.ts)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(delivery!.envelope.ts)).toBeLessThanOrEqual(after);
  });
});
