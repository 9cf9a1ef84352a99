// The prod stack's Redis users (deploy/redis/users.acl), rendered by deploy/redis/start.sh as the
// redis container runs it, on a real redis-server: each role does its whole job through the code
// the services run (broker, token store, position store), and nothing else.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRedisBroker, credentialsOf, type Broker, type Delivery, type RedisTarget } from '@mupets/broker';
import { startRedisServer, waitFor, type RedisServer } from '@mupets/testkit';
import { openTokenStore } from '@mupets/tokens';
import Redis from 'ioredis';
import { createPositionStore } from '../../images/log-collector/src/position-store';

const ROOT = resolve(__dirname, '../..');
const USERS = ['archiver', 'admin', 'ingest', 'collector', 'service'] as const;
type User = (typeof USERS)[number];

let server: RedisServer;
let secrets: string;
const passwords = new Map<User, string>();
const opened: Array<{ close(): Promise<unknown> }> = [];

beforeAll(async () => {
  secrets = mkdtempSync(join(tmpdir(), 'mupets-redis-secrets-'));
  for (const user of USERS) {
    const password = randomBytes(18).toString('base64url');
    passwords.set(user, password);
    // as `openssl rand ... > file` writes it, with a trailing newline the services ignore
    writeFileSync(join(secrets, `broker_${user}_password`), `${password}\n`);
  }
  server = await startRedisServer({
    launcher: {
      command: ['sh', join(ROOT, 'deploy/redis/start.sh')],
      env: { MUPETS_REDIS_SECRETS: secrets, MUPETS_REDIS_ACL: join(secrets, 'users.acl') },
    },
  });
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
});

afterAll(async () => {
  await server?.destroy();
  rmSync(secrets, { recursive: true, force: true });
});

function as(user: User): RedisTarget {
  return { url: server.url, username: user, password: passwords.get(user)! };
}

function brokerAs(user: User): Broker {
  const broker = createRedisBroker({ ...as(user), publishTimeoutMs: 5000 });
  opened.push(broker);
  return broker;
}

/** A plain client logged in as `user`, for the commands a role must never run. */
/** A token store as `user`, once connected (its client has no offline queue). */
async function tokensAs(user: User) {
  const tokens = openTokenStore(as(user), { logger: { warn: () => undefined } });
  opened.push(tokens);
  await waitFor(
    () =>
      tokens.ping().then(
        () => true,
        () => false,
      ),
    { what: `the token store as ${user}` },
  );
  return tokens;
}

function clientAs(user: User | 'nobody'): Redis {
  const redis = new Redis(server.url, {
    ...(user === 'nobody' ? {} : credentialsOf(as(user))),
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
  });
  opened.push({ close: () => Promise.resolve(redis.disconnect()) });
  return redis;
}

const DENIED = /NOPERM|no permissions|can't access|can't run/;

/** Every command here is refused to `user`: the ways to lose, read or forge what is not its own. */
async function expectRefused(user: User | 'nobody', commands: Array<[string, ...string[]]>): Promise<void> {
  const redis = clientAs(user);
  for (const [command, ...args] of commands) {
    await expect(redis.call(command, ...args)).rejects.toThrow(DENIED);
  }
}

const SABOTAGE: Array<[string, ...string[]]> = [
  ['XGROUP', 'SETID', 'mupets:logs', 'log-archiver', '$'],
  ['XGROUP', 'DESTROY', 'mupets:logs', 'log-archiver'],
  ['DEL', 'mupets:logs'],
  ['UNLINK', 'mupets:events'],
  ['FLUSHALL'],
  ['CONFIG', 'SET', 'appendonly', 'no'],
  ['ACL', 'LIST'],
  ['KEYS', '*'],
  ['SHUTDOWN', 'NOSAVE'],
];

function note(service: string, text: string | number) {
  return { type: 'acl.note', source: { service }, message: typeof text === 'number' ? `note ${text}` : text };
}

test('the rendered file holds hashes, never a password; unauthenticated clients may only PING', async () => {
  const rendered = readFileSync(join(secrets, 'users.acl'), 'utf8');
  for (const password of passwords.values()) {
    expect(rendered).not.toContain(password);
  }
  expect(rendered).not.toMatch(/@HASH_|@P@/);
  // the compose healthcheck: redis-cli, unauthenticated
  const ping = spawnSync('redis-cli', ['-p', String(server.port), 'ping'], { encoding: 'utf8' });
  expect(ping.stdout.trim()).toBe('PONG');
  const xadd = spawnSync('redis-cli', ['-p', String(server.port), 'XADD', 'mupets:audit', '*', 'e', '{}'], {
    encoding: 'utf8',
  });
  expect(xadd.stdout + xadd.stderr).toMatch(/NOPERM/);
  await expectRefused('nobody', [['XRANGE', 'mupets:logs', '-', '+'], ['INFO'], ...SABOTAGE]);
});

test('a wrong password is refused', async () => {
  const redis = new Redis(server.url, { username: 'service', password: 'not-the-password', retryStrategy: () => null });
  opened.push({ close: () => Promise.resolve(redis.disconnect()) });
  const error = await new Promise<Error>((resolve) => redis.once('error', resolve));
  expect(error.message).toMatch(/WRONGPASS/);
});

test('service: publishes logs and events; cannot write audit nor read, trim or sabotage a stream', async () => {
  const broker = brokerAs('service');
  await broker.ready(5000);
  await expect(broker.publish('logs', note('shop', 1))).resolves.toMatch(/^\d+-\d+$/);
  await expect(broker.publish('events', [note('shop', 2), note('shop', 3)])).resolves.toHaveLength(2);
  await expect(broker.publish('audit', { ...note('shop', 4), type: 'admin.audit' })).rejects.toThrow(DENIED);
  await expect(broker.publish('logs.dead', note('shop', 5))).rejects.toThrow(DENIED);
  await expect(broker.range('logs')).rejects.toThrow(DENIED);
  await expectRefused('service', [
    ['XRANGE', 'mupets:logs', '-', '+'],
    ['XREAD', 'STREAMS', 'mupets:events', '0'],
    ['XTRIM', 'mupets:logs', 'MAXLEN', '0'],
    ['XACK', 'mupets:logs', 'log-archiver', '0-1'],
    ['XGROUP', 'CREATE', 'mupets:logs', 'thief', '0'],
    ['HGETALL', 'mupets:_tokens'],
    ['EVAL', "return redis.call('XRANGE', KEYS[1], '-', '+')", '1', 'mupets:logs'],
    ...SABOTAGE,
  ]);
});

test('archiver: consumes every channel, retries, dead-letters, trims, replays; publishes only its logs', async () => {
  const admin = brokerAs('admin');
  const service = brokerAs('service');
  const archiver = brokerAs('archiver');
  await archiver.ready(5000);
  // the server is shared by the tests of this file: this one's messages say `archive`
  await service.publish('logs', [note('shop', 'archive 1'), note('shop', 'archive poison')]);
  await service.publish('events', note('shop', 'archive 3'));
  await admin.publish('audit', { ...note('admin', 'archive 4'), type: 'admin.audit' });

  const seen = new Map<string, string[]>();
  let poisonFailures = 0;
  const consumers = ['logs', 'events', 'audit'].map((channel) =>
    archiver.consume(
      channel,
      'log-archiver',
      (batch: readonly Delivery[]) => {
        const failed = [];
        for (const { id, envelope } of batch) {
          if (envelope.message === 'archive poison') {
            poisonFailures += 1;
            failed.push({ id, error: new Error('cannot store it') });
          } else if (envelope.message?.startsWith('archive')) {
            seen.set(channel, [...(seen.get(channel) ?? []), envelope.message]);
          }
        }
        return { failed };
      },
      { blockMs: 100, minIdleMs: 200, reclaimIntervalMs: 100, maxDeliveries: 2 },
    ),
  );
  opened.push(...consumers.map((consumer) => ({ close: () => consumer.stop() })));
  // a handler failure is counted, the entry reclaimed and retried, then dead-lettered
  await waitFor(async () => (await archiver.stats('logs.dead')).length === 1, { what: 'the poison dead-lettered' });
  expect(poisonFailures).toBe(2);
  await waitFor(() => seen.size === 3, { what: 'every channel consumed' });
  expect(Object.fromEntries(seen)).toEqual({ logs: ['archive 1'], events: ['archive 3'], audit: ['archive 4'] });
  for (const channel of ['logs', 'events', 'audit']) {
    await waitFor(async () => (await archiver.stats(channel)).groups[0]?.pending === 0, { what: `${channel} acked` });
  }
  await archiver.trim('logs', { maxLen: 0 });
  expect((await archiver.stats('logs')).length).toBe(0);
  const replayed: string[] = [];
  for await (const page of archiver.replay('events', 'log-archiver', { windowMs: 60_000 })) {
    replayed.push(...page.map((entry) => entry.envelope.message ?? ''));
  }
  expect(replayed).toContain('archive 3');

  await expect(archiver.publish('logs', note('log-archiver', 5))).resolves.toMatch(/^\d+-\d+$/);
  await expect(archiver.publish('events', note('log-archiver', 6))).rejects.toThrow(DENIED);
  await expect(archiver.publish('audit', { ...note('admin', 7), type: 'admin.audit' })).rejects.toThrow(DENIED);
  await expectRefused('archiver', [
    ['XADD', 'mupets:audit', '*', 'e', '{}'],
    ['HGETALL', 'mupets:_tokens'],
    ['XRANGE', 'mupets:collector:position:abc', '-', '+'],
    ...SABOTAGE,
  ]);
});

test('admin: follows and reads every channel, publishes events and audit, manages dead letters, groups and tokens', async () => {
  const admin = brokerAs('admin');
  const service = brokerAs('service');
  await admin.ready(5000);
  const tail = admin.tail('logs', { blockMs: 100 });
  opened.push(tail);
  const iterator = tail[Symbol.asyncIterator]();
  const first = iterator.next();
  await waitFor(async () => {
    await service.publish('logs', note('shop', 1));
    return Promise.race([first.then(() => true), new Promise<boolean>((ok) => setTimeout(() => ok(false), 200))]);
  });
  expect((await first).value?.envelope.message).toBe('note 1');
  await expect(admin.range('logs', { reverse: true, count: 1 })).resolves.toHaveLength(1);
  await expect(admin.publish('events', note('admin', 2))).resolves.toMatch(/^\d+-\d+$/);
  await expect(admin.publish('audit', { ...note('admin', 3), type: 'admin.audit' })).resolves.toMatch(/^\d+-\d+$/);
  for (const channel of ['logs', 'events', 'audit', 'logs.dead']) {
    await expect(admin.stats(channel)).resolves.toBeDefined();
  }

  // a dead letter deleted, an idle group removed (the archiver's consumer left it)
  const archiver = brokerAs('archiver');
  const consumer = archiver.consume('events', 'retired', () => ({ failed: [] }), { blockMs: 100 });
  await waitFor(async () => (await admin.stats('events')).groups.some((group) => group.name === 'retired'));
  await consumer.stop();
  await expect(admin.removeGroup('events', 'retired', { activeWithinMs: 0 })).resolves.toBe('removed');
  const [dead] = await archiver.publish('logs.dead', [note('log-archiver', 4)]);
  await expect(admin.remove('logs.dead', [dead!])).resolves.toBe(1);

  const tokens = await tokensAs('admin');
  const { token, record } = await tokens.store.create({ name: 'py shop', channels: ['logs'], services: ['py-shop'] });
  expect((await tokens.store.list()).map((r) => r.id)).toContain(record.id);
  await expect(tokens.store.verify(token)).resolves.toEqual(record);
  await expect(tokens.store.revoke(record.id)).resolves.toEqual(record);

  await expect(admin.remove('logs', [dead!])).rejects.toThrow(DENIED);
  await expect(admin.publish('orders', note('admin', 5))).rejects.toThrow(DENIED);
  await expectRefused('admin', [
    ['XTRIM', 'mupets:logs', 'MAXLEN', '0'],
    ['XACK', 'mupets:logs', 'log-archiver', '0-1'],
    ['HGETALL', 'mupets:collector:position:abc'],
    ...SABOTAGE.filter(([command, sub]) => !(command === 'XGROUP' && sub === 'DESTROY')),
  ]);
});

test('ingest: publishes logs and events, verifies tokens; cannot write audit, mint a token or read', async () => {
  const adminTokens = await tokensAs('admin');
  const ingestTokens = await tokensAs('ingest');
  const { token, record } = await adminTokens.store.create({ name: 'job', channels: ['events'], services: ['job'] });
  await expect(ingestTokens.store.verify(token)).resolves.toEqual(record);
  await expect(ingestTokens.store.create({ name: 'mine', channels: ['logs'], services: ['x'] })).rejects.toThrow();
  await expect(ingestTokens.store.revoke(record.id)).rejects.toThrow();
  await expect(ingestTokens.ping()).resolves.toBeUndefined();

  const ingest = brokerAs('ingest');
  await expect(ingest.publish('events', note('job', 1))).resolves.toMatch(/^\d+-\d+$/);
  await expect(ingest.publish('logs', note('job', 2))).resolves.toMatch(/^\d+-\d+$/);
  await expect(ingest.publish('audit', { ...note('job', 3), type: 'admin.audit' })).rejects.toThrow(DENIED);
  await expectRefused('ingest', [
    ['HSET', 'mupets:_tokens', 'forged', '{}'],
    ['XRANGE', 'mupets:events', '-', '+'],
    ...SABOTAGE,
  ]);
});

test('collector: publishes logs, reads them back, keeps its positions; nothing else', async () => {
  const collector = brokerAs('collector');
  const [id] = await collector.publish('logs', [note('redis', 1)]);
  const [entry] = await collector.range('logs', { start: id, end: id });
  expect(entry?.envelope.message).toBe('note 1');
  await expect(collector.publish('events', note('redis', 2))).rejects.toThrow(DENIED);

  const redis = new Redis(server.url, { ...credentialsOf(as('collector')), maxRetriesPerRequest: 0 });
  opened.push({ close: () => Promise.resolve(redis.disconnect()) });
  const positions = createPositionStore(redis, 'mupets:collector:position:');
  const position = { ts: '2026-12-03T10:00:00.000000001Z', n: 1 };
  await positions.begin(new Map([['c1', { ...position, lastId: 'x', at: Date.now() }]]));
  await positions.commit(new Map([['c1', position]]));
  await expect(positions.load('c1')).resolves.toEqual({ position });
  await positions.remove('c1');
  await expect(positions.load('c1')).resolves.toEqual({});
  await expect(positions.ping()).resolves.toBeUndefined();

  await expectRefused('collector', [
    ['HGETALL', 'mupets:_tokens'],
    ['HSET', 'mupets:_tokens', 'forged', '{}'],
    ['XRANGE', 'mupets:events', '-', '+'],
    ...SABOTAGE,
  ]);
});
