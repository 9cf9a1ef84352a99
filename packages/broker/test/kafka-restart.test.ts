import { startKafkaServer, testPrefix, waitFor, type KafkaServer } from '@mupets/testkit';
import { BrokerUnavailableError, type Broker } from '@mupets/broker';
import { kafkaBrokerFor, message, readKafkaTopic } from './helpers';

const prefix = testPrefix(__filename).replace(/:/g, '.');
let server: KafkaServer;

beforeAll(async () => {
  // a private Kafka: this file kills it (SIGKILL, then a restart on the same ports and data)
  server = await startKafkaServer();
});

afterAll(async () => {
  await server.destroy();
});

interface Outcome {
  resolved: Map<string, string>; // envelope id -> entry id
  rejected: Map<string, unknown>;
}

/**
 * Publishes `total` messages one call each, paced over many ticks so a kill lands mid-flight; the
 * second half waits for `halfway` so that part of it is certainly published while Kafka is down.
 */
function publishPaced(
  broker: Broker,
  channel: string,
  total: number,
  outcome: Outcome,
  halfway: Promise<void>,
): Promise<void> {
  return (async () => {
    const calls: Array<Promise<void>> = [];
    for (let i = 0; i < total; i++) {
      if (i === total / 2) {
        await halfway;
      }
      const id = `${channel}-${i}`;
      calls.push(
        broker.publish(channel, message(i, { id })).then(
          (entryId) => void outcome.resolved.set(id, entryId),
          (error: unknown) => void outcome.rejected.set(id, error),
        ),
      );
      if (i % 100 === 99) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    await Promise.all(calls);
  })();
}

test('Kafka killed and restarted while publishing 20k: every resolved publish is stored, none is left hanging', async () => {
  const logged: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
  const record =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void =>
      void logged.push({ level, message, meta });
  const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  // a JVM restart on a busy VM can take a while: the timeout is well above it
  const broker = kafkaBrokerFor(server.brokers, prefix, {
    publishTimeoutMs: 90_000,
    maxBufferedMessages: 30_000,
    logger,
  });
  await broker.ready(10_000);
  const outcome: Outcome = { resolved: new Map(), rejected: new Map() };
  let killed!: () => void;
  const done = publishPaced(broker, 'restart', 20_000, outcome, new Promise((resolve) => (killed = resolve)));

  await waitFor(() => outcome.resolved.size >= 3000, { timeoutMs: 60_000, what: '3000 publishes confirmed' });
  await server.stop('SIGKILL');
  killed();
  const confirmedBeforeKill = outcome.resolved.size;
  await waitFor(() => broker.buffered >= 1000, { what: 'publishes piling up while Kafka is down' });
  await server.start();
  await done;
  await broker.close();

  expect(confirmedBeforeKill).toBeLessThanOrEqual(10_000);
  // the outage was shorter than the publish timeout: nothing may be rejected
  expect([...outcome.rejected.values()]).toEqual([]);
  expect(outcome.resolved.size).toBe(20_000);
  const stored = await readKafkaTopic(server.brokers, `${prefix}restart`);
  const storedIds = new Set(stored.map((entry) => entry.envelope.id));
  const entryIds = new Map(stored.map((entry) => [entry.id, entry.envelope.id]));
  for (const [envelopeId, entryId] of outcome.resolved) {
    expect(storedIds.has(envelopeId)).toBe(true);
    // the id a publish resolved with is where that very envelope is stored
    expect(entryIds.get(entryId)).toBe(envelopeId);
  }
  // a resend after a lost reply may store a message twice, never zero times
  expect(stored.length).toBeGreaterThanOrEqual(20_000);
  // the outage was logged once when it began and once when it ended
  const outage = logged.filter((entry) => entry.meta?.role === 'producer' && entry.level !== 'debug');
  expect(outage.map((entry) => `${entry.level} ${entry.message}`)).toEqual([
    'warn kafka connection lost',
    'info kafka connection recovered',
  ]);
  expect(outage[1]!.meta).toMatchObject({ brokers: server.brokers, downMs: expect.any(Number) });
});

test('an outage longer than the publish timeout rejects what could not be stored; every resolved publish is stored', async () => {
  // 2 s, not Redis's 300 ms: the request in flight at the kill is resent first after the restart (the
  // outage is longer anyway: Kafka starts again only after publishes were rejected)
  const broker = kafkaBrokerFor(server.brokers, prefix, { publishTimeoutMs: 2000, maxBufferedMessages: 30_000 });
  await broker.ready(10_000);
  const outcome: Outcome = { resolved: new Map(), rejected: new Map() };
  let killed!: () => void;
  const done = publishPaced(broker, 'outage', 20_000, outcome, new Promise((resolve) => (killed = resolve)));

  await waitFor(() => outcome.resolved.size >= 2000, { timeoutMs: 60_000, what: '2000 publishes confirmed' });
  await server.stop('SIGKILL');
  killed();
  await waitFor(() => outcome.rejected.size > 0, { timeoutMs: 10_000, what: 'publishes rejected during the outage' });
  await done; // with Kafka down past the timeout, every remaining call settles (rejects)
  await server.start();
  await broker.ready(10_000);
  const afterwards = await broker.publish('outage', message(-1));
  await broker.close();

  expect(outcome.resolved.size + outcome.rejected.size).toBe(20_000);
  expect(outcome.rejected.size).toBeGreaterThan(0);
  for (const error of outcome.rejected.values()) {
    expect(error).toBeInstanceOf(BrokerUnavailableError);
  }
  const stored = await readKafkaTopic(server.brokers, `${prefix}outage`);
  const storedIds = new Set(stored.map((entry) => entry.envelope.id));
  for (const envelopeId of outcome.resolved.keys()) {
    expect(storedIds.has(envelopeId)).toBe(true);
  }
  expect(stored.at(-1)!.id).toBe(afterwards);
});
