// The prod stack's Kafka users: SASL/SCRAM logins and the ACLs of deploy/kafka/acls.sh, applied with
// Kafka's own kafka-acls.sh as the kafka container applies them, on a real Kafka that enforces them.
// Each role does its job through the broker the services run, and is refused what is not its own.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { createKafkaBroker, type Broker, type Delivery } from '@mupets/broker';
import { startKafkaServer, waitFor, writeKafkaToolScripts, type KafkaServer } from '@mupets/testkit';

const ROOT = resolve(__dirname, '../..');
const USERS = ['archiver', 'admin', 'ingest', 'collector', 'service'] as const;
type User = (typeof USERS)[number];

let kafka: KafkaServer;
let tools: string;
const passwords = new Map<User, string>();
const opened: Broker[] = [];

beforeAll(async () => {
  for (const user of USERS) {
    passwords.set(user, randomBytes(18).toString('base64url'));
  }
  kafka = await startKafkaServer({ scram: { users: Object.fromEntries(passwords) } });
  tools = mkdtempSync(join(tmpdir(), 'mupets-kafka-tools-'));
  writeKafkaToolScripts(tools);
  execFileSync('sh', [join(ROOT, 'deploy/kafka/acls.sh'), `127.0.0.1:${kafka.internalPort}`], {
    env: { ...process.env, PATH: `${tools}:${process.env.PATH ?? ''}` },
    stdio: 'pipe',
    timeout: 300_000,
  });
}, 400_000);

afterEach(async () => {
  await Promise.all(opened.splice(0).map((broker) => broker.close()));
});

afterAll(async () => {
  await kafka?.destroy();
  if (tools) {
    rmSync(tools, { recursive: true, force: true });
  }
});

function brokerAs(user: User, password = passwords.get(user)!): Broker {
  const broker = createKafkaBroker({
    brokers: kafka.brokers,
    sasl: { mechanism: 'SCRAM-SHA-512', username: user, password },
    publishTimeoutMs: 5000,
  });
  opened.push(broker);
  return broker;
}

/** Kafka's refusal, wherever the client nests it (a request's error lists each partition's). */
const REFUSAL = /authorization[ _]failed|not authorized/i;

function denied(error: unknown): boolean {
  return REFUSAL.test(inspect(error, { depth: 8 }));
}

async function expectDenied(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeDefined();
  expect(denied(error)).toBe(true);
}

function note(service: string, message: string) {
  return { type: 'acl.note', source: { service }, message };
}

test('a wrong password is refused', async () => {
  await expect(brokerAs('service', 'not-the-password').ready(10_000)).rejects.toThrow();
});

test('service and ingest publish logs and events; neither may write audit, read a channel or join a group', async () => {
  for (const user of ['service', 'ingest'] as const) {
    const broker = brokerAs(user);
    await broker.ready(20_000);
    await expect(broker.publish('logs', note(user, 'hello'))).resolves.toBeTruthy();
    await expect(broker.publish('events', note(user, 'event'))).resolves.toBeTruthy();
    await expect(broker.publish('audit', { ...note('admin', 'forged'), type: 'admin.audit' })).rejects.toThrow();
    await expectDenied(broker.range('logs'));
  }
});

test('archiver: consumes logs, events and audit in its group, dead-letters and trims; writes neither events nor audit', async () => {
  const admin = brokerAs('admin');
  const service = brokerAs('service');
  await service.publish('logs', [note('shop', 'archive 1'), note('shop', 'archive poison')]);
  await service.publish('events', note('shop', 'archive 2'));
  await admin.publish('audit', { ...note('admin', 'archive 3'), type: 'admin.audit' });

  const archiver = brokerAs('archiver');
  const seen = new Map<string, string[]>();
  const consumers = ['logs', 'events', 'audit'].map((channel) =>
    archiver.consume(
      channel,
      'log-archiver',
      (batch: readonly Delivery[]) => ({
        failed: batch
          .filter(({ envelope }) => {
            if (envelope.message === 'archive poison') {
              return true;
            }
            if (envelope.message?.startsWith('archive')) {
              seen.set(channel, [...(seen.get(channel) ?? []), envelope.message]);
            }
            return false;
          })
          .map(({ id }) => ({ id, error: new Error('cannot store it'), deadLetter: true })),
      }),
      { blockMs: 200 },
    ),
  );
  try {
    await waitFor(() => seen.size === 3, { what: 'every channel consumed', timeoutMs: 60_000 });
    expect(Object.fromEntries(seen)).toEqual({ logs: ['archive 1'], events: ['archive 2'], audit: ['archive 3'] });
    await waitFor(async () => (await archiver.stats('logs.dead')).length === 1, {
      what: 'the poison dead-lettered',
      timeoutMs: 60_000,
    });
  } finally {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
  }
  await expect(archiver.trim('events', { maxLen: 0 })).resolves.toBeDefined();
  await expect(archiver.publish('logs', note('log-archiver', 'its own log'))).resolves.toBeTruthy();
  await expect(archiver.publish('events', note('log-archiver', 'no'))).rejects.toThrow();
  await expect(archiver.publish('audit', { ...note('admin', 'forged'), type: 'admin.audit' })).rejects.toThrow();
  // another service's group is not the archiver's to join: its consumer is refused, and says so
  const warnings: string[] = [];
  const record = (message: string, meta?: unknown): void => {
    warnings.push(`${message} ${JSON.stringify(meta)}`);
  };
  const watched = createKafkaBroker({
    brokers: kafka.brokers,
    sasl: { mechanism: 'SCRAM-SHA-512', username: 'archiver', password: passwords.get('archiver')! },
    logger: { debug: () => undefined, info: () => undefined, warn: record, error: record },
  });
  opened.push(watched);
  const thief = watched.consume('events', 'order-mailer', () => undefined, { blockMs: 200 });
  try {
    await waitFor(() => warnings.some((warning) => REFUSAL.test(warning)), {
      what: 'the foreign group refused',
      timeoutMs: 60_000,
    });
  } finally {
    await thief.stop();
  }
});

test('admin: reads every channel and group, publishes events and audit, removes an idle group', async () => {
  const admin = brokerAs('admin');
  await admin.ready(20_000);
  await expect(admin.publish('events', note('admin', 'submitted'))).resolves.toBeTruthy();
  await expect(admin.publish('audit', { ...note('admin', 'audited'), type: 'admin.audit' })).resolves.toBeTruthy();
  expect((await admin.range('audit', { count: 100 })).map((entry) => entry.envelope.message)).toContain('audited');
  const stats = await admin.stats('logs');
  expect(stats.groups.map((group) => group.name)).toContain('log-archiver');
  await expect(admin.removeGroup('audit', 'log-archiver')).resolves.toBe('removed');
  await expect(admin.publish('orders', note('admin', 'no'))).rejects.toThrow();
});

test('collector: publishes logs and reads them back; nothing else', async () => {
  const collector = brokerAs('collector');
  const id = await collector.publish('logs', note('redis', 'startup line'));
  const [entry] = await collector.range('logs', { start: id, end: id });
  expect(entry?.envelope.message).toBe('startup line');
  await expect(collector.publish('events', note('redis', 'no'))).rejects.toThrow();
  // a topic a user may not describe is one it cannot see: events holds entries, the collector reads none
  expect((await brokerAs('admin').range('events')).length).toBeGreaterThan(0);
  await expect(collector.range('events')).resolves.toEqual([]);
});
