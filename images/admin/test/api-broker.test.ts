import Redis from 'ioredis';
import { waitFor } from '@mupets/testkit';
import type { StreamEntry } from '@mupets/broker';
import { bodyOf, errorOf, fieldsOf, startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';

interface DeadLetterView {
  id: string;
  ts: string;
  originalId: string | null;
  group: string | null;
  deliveries: number | null;
  error: { name?: string; message?: string } | null;
  envelope: { id: string; type: string; data?: Record<string, unknown> } | null;
  rawFields?: unknown;
}

let admin: TestAdmin;
let client: LoggedIn;
let poisonIds: string[];

/** Dead-letters every entry of `channel` (one delivery each) through a real consumer group. */
async function deadLetterAll(channel: string, expected: number): Promise<void> {
  const consumer = admin.broker.consume(
    channel,
    'picky',
    (batch) => ({ failed: batch.map((d) => ({ id: d.id, error: new Error('picky refuses'), deadLetter: true })) }),
    { blockMs: 50 },
  );
  await waitFor(async () => (await admin.broker.stats(admin.broker.deadLetterChannel(channel))).length >= expected, {
    what: `${expected} dead letters`,
  });
  await consumer.stop();
}

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename });
  client = await admin.login();
  poisonIds = await admin.broker.publish('logs', [
    { type: 'poison', source: { service: 'svc' }, data: { n: 1 } },
    { type: 'poison', source: { service: 'svc' }, data: { n: 2 } },
  ]);
  // and one entry that is no envelope at all: it can be listed, never replayed
  const redis = new Redis(admin.config.REDIS_URL);
  await redis.xadd(`${admin.prefix}logs`, '*', 'e', '{not json');
  redis.disconnect();
  await deadLetterAll('logs', 3);
});

afterAll(async () => {
  await admin.close();
});

test('GET /api/broker: every ADMIN_CHANNELS channel with its stats and dead-letter count', async () => {
  const answer = await client.agent.get('/api/broker');
  expect(answer.status).toBe(200);
  const body = bodyOf<{ backend: string; channels: Array<Record<string, unknown>> }>(answer);
  expect(body.backend).toBe('redis');
  expect(body.channels.map((c) => c.channel)).toEqual(['logs', 'events', 'audit']);
  expect(body.channels[0]).toMatchObject({
    channel: 'logs',
    length: 3,
    deadLetters: 3,
    groups: [expect.objectContaining({ name: 'picky', pending: 0 })],
  });
  expect(body.channels[1]).toMatchObject({ channel: 'events', deadLetters: 0 });
});

test('GET dead-letters: newest first, with the original envelope, group, deliveries and error (no stack)', async () => {
  const answer = await client.agent.get('/api/broker/logs/dead-letters?limit=10');
  expect(answer.status).toBe(200);
  const list = bodyOf<{ deadLetters: DeadLetterView[] }>(answer).deadLetters;
  expect(list).toHaveLength(3);
  // the order the broker keeps them in, newest first (ids are the broker's: not parsed here)
  const stored = await admin.broker.range(admin.broker.deadLetterChannel('logs'), { reverse: true, count: 10 });
  expect(list.map((d) => d.id)).toEqual(stored.map((entry) => entry.id));
  expect(list.find((d) => d.envelope === null)).toMatchObject({ rawFields: ['e', '{not json'], deliveries: 1 });
  expect(list.find((d) => d.originalId === poisonIds[0])).toMatchObject({
    originalId: poisonIds[0],
    group: 'picky',
    deliveries: 1,
    error: { name: 'Error', message: 'picky refuses' },
    envelope: { type: 'poison', data: { n: 1 } },
  });
  expect(JSON.stringify(list)).not.toMatch(/"stack"/);
  const limited = await client.agent.get('/api/broker/logs/dead-letters?limit=1');
  expect(bodyOf<{ deadLetters: DeadLetterView[] }>(limited).deadLetters.map((d) => d.id)).toEqual([list[0]!.id]);
});

test.each([
  ['/api/broker/logs/dead-letters?limit=0', 400, 'limit'],
  ['/api/broker/logs/dead-letters?limit=abc', 400, 'limit'],
  ['/api/broker/logs/dead-letters?limit=5000', 400, 'limit'],
  ['/api/broker/logs/dead-letters?order=asc', 400, 'order'],
  ['/api/broker/unknown/dead-letters', 404, undefined],
  [`/api/broker/${encodeURIComponent("logs' OR 1=1")}/dead-letters`, 404, undefined],
  ['/api/broker/logs.dead/dead-letters', 404, undefined],
])('GET %s: %d', async (path, status, field) => {
  const answer = await client.agent.get(path);
  expect(answer.status).toBe(status);
  if (field) {
    expect(fieldsOf(answer)).toContain(field);
  } else {
    expect(errorOf(answer).code).toBe('not_found');
  }
});

describe('POST replay', () => {
  const replay = (channel: string, id: string) =>
    client.agent
      .post(`/api/broker/${encodeURIComponent(channel)}/dead-letters/${encodeURIComponent(id)}/replay`)
      .set('x-csrf-token', client.csrfToken);

  test('publishes the original envelope again (same envelope id), removes the dead letter, audits it', async () => {
    const [dead] = (await admin.broker.range('logs.dead', { count: 10 })).filter(
      (e: StreamEntry) => e.envelope.data?.originalId === poisonIds[1],
    );
    const original = dead!.envelope.data!.envelope as { id: string };
    const answer = await replay('logs', dead!.id);
    expect(answer.status).toBe(202);
    const { brokerId, removed } = bodyOf<{ brokerId: string; removed: boolean }>(answer);
    expect(removed).toBe(true);
    const [again] = await admin.broker.range('logs', { start: brokerId, end: brokerId });
    expect(again!.envelope).toMatchObject({ id: original.id, type: 'poison', data: { n: 2 } });
    expect((await admin.broker.range('logs.dead', { count: 10 })).map((e) => e.id)).not.toContain(dead!.id);
    await waitFor(
      async () =>
        (await admin.broker.range('audit', { count: 100 })).some(
          (e) => e.envelope.data?.action === 'dead-letter.replay' && e.envelope.data?.target === `logs/${dead!.id}`,
        ),
      { what: 'the replay audited' },
    );

    const twice = await replay('logs', dead!.id);
    expect(twice.status).toBe(404);
    expect(errorOf(twice).code).toBe('not_found');
  });

  test('a dead letter without a valid envelope: 409 not_replayable, kept', async () => {
    const raw = (await admin.broker.range('logs.dead', { count: 10 })).find((e) => e.envelope.data?.rawFields);
    expect(raw).toBeDefined();
    const answer = await replay('logs', raw!.id);
    expect(answer.status).toBe(409);
    expect(errorOf(answer).code).toBe('not_replayable');
    expect((await admin.broker.range('logs.dead', { count: 10 })).map((e) => e.id)).toContain(raw!.id);
  });

  test.each([
    ['logs', 'not-an-id', 400],
    ['logs', "1-0' OR 1=1 --", 400],
    ['logs', '1-0', 404],
    ['nope', '1-0', 404],
  ])('channel %s, id %s: %d, nothing published', async (channel, id, status) => {
    const before = (await admin.broker.stats('logs')).length;
    const answer = await replay(channel, id);
    expect(answer.status).toBe(status);
    if (status === 400) {
      expect(fieldsOf(answer)).toContain('id');
    }
    expect((await admin.broker.stats('logs')).length).toBe(before);
  });
});

describe('DELETE a consumer group', () => {
  const remove = (channel: string, group: string) =>
    client.agent
      .delete(`/api/broker/${encodeURIComponent(channel)}/groups/${encodeURIComponent(group)}`)
      .set('x-csrf-token', client.csrfToken);

  test('a retired group (no live consumer) is removed and audited; then it is gone', async () => {
    // a group whose service is gone: created, never read by anyone now
    const redis = new Redis(admin.config.REDIS_URL);
    await redis.xgroup('CREATE', `${admin.prefix}events`, 'retired-svc', '0', 'MKSTREAM');
    redis.disconnect();
    const answer = await remove('events', 'retired-svc');
    expect(answer.status).toBe(204);
    expect((await admin.broker.stats('events')).groups.map((g) => g.name)).not.toContain('retired-svc');
    await waitFor(
      async () =>
        (await admin.broker.range('audit', { count: 100 })).some(
          (e) => e.envelope.data?.action === 'broker.group.remove' && e.envelope.data?.target === 'events/retired-svc',
        ),
      { what: 'the removal audited' },
    );
    const twice = await remove('events', 'retired-svc');
    expect(twice.status).toBe(404);
    expect(errorOf(twice).code).toBe('not_found');
  });

  test('a group with a live consumer: 409 group_in_use, kept', async () => {
    const consumer = admin.broker.consume('events', 'live-svc', () => undefined, { blockMs: 50 });
    try {
      // live: its consumer has read (the group alone exists as soon as it is created, before any read)
      await waitFor(
        async () => (await admin.broker.stats('events')).groups.some((g) => g.name === 'live-svc' && g.consumers > 0),
        { what: 'a consumer of the live group reading' },
      );
      const answer = await remove('events', 'live-svc');
      expect(answer.status).toBe(409);
      expect(errorOf(answer).code).toBe('group_in_use');
      expect((await admin.broker.stats('events')).groups.map((g) => g.name)).toContain('live-svc');
    } finally {
      await consumer.stop();
    }
  });

  test('a bad group name is a 400 naming group; an unknown channel a 404; no CSRF token a 403', async () => {
    const bad = await remove('events', 'Bad Name!');
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toContain('group');
    expect((await remove('nowhere', 'svc')).status).toBe(404);
    const noToken = await client.agent.delete('/api/broker/events/groups/svc');
    expect(noToken.status).toBe(403);
  });
});
