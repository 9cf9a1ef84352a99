import supertest from 'supertest';
import { bodyOf, errorOf, fieldsOf, startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';

let admin: TestAdmin;
let client: LoggedIn;

beforeAll(async () => {
  admin = await startTestAdmin({ file: __filename });
  client = await admin.login();
});

afterAll(async () => {
  await admin.close();
});

interface Created {
  token: string;
  record: { id: string; name: string; channels: string[]; services: string[]; ratePerSecond: number; hint: string };
}

const create = (body: unknown) =>
  client.agent
    .post('/api/tokens')
    .set('x-csrf-token', client.csrfToken)
    .send(body as object);

test('create: the token is shown once, works in the shared store, and is never listed or audited', async () => {
  const answer = await create({ name: 'py shop', channels: ['events'], services: ['py-shop'], ratePerSecond: 50 });
  expect(answer.status).toBe(201);
  const { token, record } = bodyOf<Created>(answer);
  expect(token).toMatch(/^mpt_/);
  expect(record).toMatchObject({ name: 'py shop', channels: ['events'], services: ['py-shop'], ratePerSecond: 50 });
  expect(await admin.tokens.verify(token)).toMatchObject({ id: record.id });

  const list = await client.agent.get('/api/tokens');
  expect(list.status).toBe(200);
  expect(bodyOf<{ tokens: Created['record'][] }>(list).tokens.map((t) => t.id)).toContain(record.id);
  expect(list.text).not.toContain(token);

  const audit = await admin.broker.range('audit', { count: 1000 });
  const created = audit.find((entry) => entry.envelope.data?.action === 'token.create');
  expect(created?.envelope.data?.target).toBe('py shop');
  expect(JSON.stringify(audit)).not.toContain(token);
});

test('create: every bad field named (400); admin and dead-letter channels refused', async () => {
  const answer = await create({
    name: '',
    channels: ['events.dead'],
    services: ['admin'],
    ratePerSecond: -1,
    extra: 1,
  });
  expect(answer.status).toBe(400);
  expect(fieldsOf(answer)).toEqual(expect.arrayContaining(['name', 'channels.0', 'services.0', 'ratePerSecond']));
  const missing = await create({});
  expect(fieldsOf(missing)).toEqual(expect.arrayContaining(['name', 'channels', 'services']));
});

test('revoke: the token stops verifying; a second revoke is 404; a malformed id is 400', async () => {
  const { token, record } = bodyOf<Created>(
    await create({ name: 'short-lived', channels: ['logs'], services: ['job'] }),
  );
  const revoked = await client.agent.delete(`/api/tokens/${record.id}`).set('x-csrf-token', client.csrfToken);
  expect(revoked.status).toBe(204);
  expect(await admin.tokens.verify(token)).toBeUndefined();
  const again = await client.agent.delete(`/api/tokens/${record.id}`).set('x-csrf-token', client.csrfToken);
  expect([again.status, errorOf(again).code]).toEqual([404, 'not_found']);
  const bad = await client.agent.delete('/api/tokens/not-a-uuid').set('x-csrf-token', client.csrfToken);
  expect([bad.status, fieldsOf(bad)]).toEqual([400, ['id']]);
});

test('without a session 401, without the CSRF token 403', async () => {
  expect((await supertest(admin.app).get('/api/tokens')).status).toBe(401);
  expect((await supertest(admin.app).post('/api/tokens').send({})).status).toBe(401);
  const noCsrf = await client.agent.post('/api/tokens').send({ name: 'x', channels: ['logs'], services: ['x'] });
  expect([noCsrf.status, errorOf(noCsrf).code]).toEqual([403, 'csrf']);
});
