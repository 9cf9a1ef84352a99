import { startKafkaServer, startRedisServer, waitFor } from '@mupets/testkit';
import { BrokerUnavailableError, type Broker } from '@mupets/broker';
import { kafkaBackend, message, privateServer, redisBackend, type Backend, type PrivateServer } from './helpers';

/** What differs between the backends when their server is killed mid-publish. */
interface RestartCase {
  readonly backend: Backend;
  /** A private server this file may kill, whose replies mean "stored". */
  startServer(): Promise<PrivateServer>;
  /** The connection role and log prefix of the outage lines, and the address they name. */
  readonly outageRole: string;
  readonly outageName: string;
  readonly addressField: string;
  /** Publish timeout well above a restart (a JVM restart on a busy VM takes a while). */
  readonly longTimeoutMs: number;
  /** Publish timeout well below the outage; Kafka's is longer because the request in flight at
   * the kill is resent first after the restart. */
  readonly shortTimeoutMs: number;
}

const cases: readonly RestartCase[] = [
  {
    backend: redisBackend,
    // appendfsync always: a reply means "on disk"
    startServer: async () => {
      const server = await startRedisServer({ appendOnly: true });
      return privateServer(server.url, server);
    },
    outageRole: 'main',
    outageName: 'redis',
    addressField: 'url',
    longTimeoutMs: 20_000,
    shortTimeoutMs: 300,
  },
  {
    backend: kafkaBackend,
    startServer: async () => {
      const server = await startKafkaServer();
      return privateServer(server.brokers, server);
    },
    outageRole: 'producer',
    outageName: 'kafka',
    addressField: 'brokers',
    longTimeoutMs: 90_000,
    shortTimeoutMs: 2000,
  },
];

interface Outcome {
  resolved: Map<string, string>; // envelope id -> entry id
  rejected: Map<string, unknown>;
}

/**
 * Publishes `total` messages one call each, paced over many ticks so a kill lands mid-flight; the
 * second half waits for `halfway` so that part of it is certainly published while the server is down.
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

describe.each(cases)('$backend.name killed while publishing', (spec) => {
  const { backend } = spec;
  const prefix = backend.prefixFor(__filename);
  let server: PrivateServer;

  beforeAll(async () => {
    server = await spec.startServer();
  });

  afterAll(async () => {
    await server.destroy();
  });

  test('killed and restarted during 20k publishes: every resolved publish is stored, none is left hanging', async () => {
    const logged: Array<{ level: string; message: string; meta?: Record<string, unknown> }> = [];
    const record =
      (level: string) =>
      (message: string, meta?: Record<string, unknown>): void =>
        void logged.push({ level, message, meta });
    const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const broker = backend.brokerAt(server.address, prefix, {
      publishTimeoutMs: spec.longTimeoutMs,
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
    await waitFor(() => broker.buffered >= 1000, { what: 'publishes piling up while the server is down' });
    await server.start();
    await done;
    await broker.close();

    expect(confirmedBeforeKill).toBeLessThanOrEqual(10_000);
    // the outage was shorter than the publish timeout: nothing may be rejected
    expect([...outcome.rejected.values()]).toEqual([]);
    expect(outcome.resolved.size).toBe(20_000);
    const stored = await backend.read(server.address, prefix, 'restart');
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
    const outage = logged.filter((entry) => entry.meta?.role === spec.outageRole && entry.level !== 'debug');
    expect(outage.map((entry) => `${entry.level} ${entry.message}`)).toEqual([
      `warn ${spec.outageName} connection lost`,
      `info ${spec.outageName} connection recovered`,
    ]);
    expect(outage[1]!.meta).toMatchObject({ [spec.addressField]: server.address, downMs: expect.any(Number) });
  });

  test('an outage longer than the publish timeout rejects what could not be stored; every resolved publish is stored', async () => {
    const broker = backend.brokerAt(server.address, prefix, {
      publishTimeoutMs: spec.shortTimeoutMs,
      maxBufferedMessages: 30_000,
    });
    await broker.ready(10_000);
    const outcome: Outcome = { resolved: new Map(), rejected: new Map() };
    let killed!: () => void;
    const done = publishPaced(broker, 'outage', 20_000, outcome, new Promise((resolve) => (killed = resolve)));

    await waitFor(() => outcome.resolved.size >= 2000, { timeoutMs: 60_000, what: '2000 publishes confirmed' });
    await server.stop('SIGKILL');
    killed();
    await waitFor(() => outcome.rejected.size > 0, { timeoutMs: 10_000, what: 'publishes rejected during the outage' });
    await done; // with the server down past the timeout, every remaining call settles (rejects)
    await server.start();
    await broker.ready(10_000);
    const afterwards = await broker.publish('outage', message(-1));
    await broker.close();

    expect(outcome.resolved.size + outcome.rejected.size).toBe(20_000);
    expect(outcome.rejected.size).toBeGreaterThan(0);
    for (const error of outcome.rejected.values()) {
      expect(error).toBeInstanceOf(BrokerUnavailableError);
    }
    const stored = await backend.read(server.address, prefix, 'outage');
    const storedIds = new Set(stored.map((entry) => entry.envelope.id));
    for (const envelopeId of outcome.resolved.keys()) {
      expect(storedIds.has(envelopeId)).toBe(true);
    }
    expect(stored.at(-1)!.id).toBe(afterwards);
  });
});
