import { waitFor } from '@mupets/testkit';
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

function submit(body: unknown) {
  const request = client.agent.post('/api/events').set('x-csrf-token', client.csrfToken);
  return body === undefined ? request : request.send(body as object);
}

/** The envelopes on a channel that the tests submitted (audit events left out). */
async function submitted(channel: string) {
  const entries = await admin.broker.range(channel, { count: 10_000 });
  return entries.filter((entry) => entry.envelope.type !== 'admin.audit');
}

describe('POST /api/events', () => {
  test('a valid event: 202 with its ids; on the stream as source.service admin; archived; audited', async () => {
    const archiver = await admin.startArchiver();
    const answer = await submit({
      type: 'order.created',
      level: 'info',
      message: 'order 7 created',
      data: { order: 7, lines: [{ sku: 'a', qty: 2 }] },
    });
    expect(answer.status).toBe(202);
    const { id, brokerId, channel } = bodyOf<{ id: string; brokerId: string; channel: string }>(answer);
    expect(channel).toBe('events');
    expect(brokerId).toMatch(/^\d+-\d+$/);

    const [entry] = await admin.broker.range('events', { start: brokerId, end: brokerId });
    expect(entry!.envelope).toMatchObject({
      id,
      channel: 'events',
      type: 'order.created',
      level: 'info',
      message: 'order 7 created',
      source: { service: 'admin' },
      data: { order: 7, lines: [{ sku: 'a', qty: 2 }] },
      v: 1,
    });

    const record = await waitFor(() => admin.archive.findById('events', id), {
      timeoutMs: 60_000,
      what: 'the event archived',
    });
    expect(record).toMatchObject({ id, brokerId, type: 'order.created', service: 'admin', data: { order: 7 } });
    const viaApi = await client.agent.get(`/api/archive/records/events/${id}`);
    expect(viaApi.status).toBe(200);
    expect(bodyOf(viaApi)).toMatchObject({ id, brokerId, message: 'order 7 created' });

    await waitFor(
      async () =>
        (await admin.broker.range('audit', { count: 1000 })).some(
          (e) => e.envelope.type === 'admin.audit' && e.envelope.data?.action === 'event.submit',
        ),
      { what: 'the submit audited' },
    );
    await archiver.kill('SIGTERM');
  });

  test('to another channel of ADMIN_CHANNELS', async () => {
    const answer = await submit({ channel: 'logs', type: 'deploy.note', message: 'hello' });
    expect(answer.status).toBe(202);
    expect(bodyOf(answer).channel).toBe('logs');
  });

  const before = { count: 0 };
  beforeEach(async () => {
    before.count =
      (await submitted('events')).length + (await submitted('logs')).length + (await submitted('audit')).length;
  });

  test.each([
    ['no body', undefined, ['type']],
    ['missing type', { data: {} }, ['type']],
    ['type of the wrong type', { type: 42 }, ['type']],
    ['an SQL injection as type', { type: "' OR 1=1 --" }, ['type']],
    ['a statement injection as type', { type: '"; DROP CLASS Message; --' }, ['type']],
    ['a script tag as type', { type: '<script>alert(1)</script>' }, ['type']],
    ['Lucene syntax as type', { type: 'type:* OR message:[* TO *]' }, ['type']],
    ['data not an object', { type: 'x', data: [1, 2] }, ['data']],
    ['data a string', { type: 'x', data: 'a' }, ['data']],
    ['an unknown level', { type: 'x', level: 'loud' }, ['level']],
    ['message not a string', { type: 'x', message: { a: 1 } }, ['message']],
    ['a channel outside ADMIN_CHANNELS', { type: 'x', channel: 'logs.dead' }, ['channel']],
    ["the audit channel (the admin's own)", { type: 'x', channel: 'audit' }, ['channel']],
    ['an injection as channel', { type: 'x', channel: "events' OR '1'='1" }, ['channel']],
    ['an unknown field', { type: 'x', source: { service: 'spoofed' } }, ['source']],
    ['a type too long', { type: 'a'.repeat(129) }, ['type']],
  ])('%s: 400 naming the field, nothing published', async (_name, body, fields) => {
    const answer = await submit(body);
    expect(answer.status).toBe(400);
    expect(errorOf(answer).code).toBe('invalid_input');
    expect(fieldsOf(answer)).toEqual(expect.arrayContaining(fields));
    expect(
      (await submitted('events')).length + (await submitted('logs')).length + (await submitted('audit')).length,
    ).toBe(before.count);
  });

  test.each([['admin.audit'], ['admin.login'], ['Admin.Audit'], ['ADMIN.anything']])(
    "type %s is the admin's own (audit records cannot be forged): 400 naming type, nothing published",
    async (type) => {
      const marker = `forged-${type}`;
      const answer = await submit({ type, message: 'container.stop', data: { action: 'container.stop', marker } });
      expect(answer.status).toBe(400);
      expect(errorOf(answer).code).toBe('invalid_input');
      expect(fieldsOf(answer)).toEqual(['type']);
      expect(errorOf(answer).issues?.[0]?.message).toMatch(/admin\./);
      const everything = [
        ...(await admin.broker.range('events', { count: 10_000 })),
        ...(await admin.broker.range('logs', { count: 10_000 })),
      ];
      expect(everything.filter((entry) => entry.envelope.data?.marker === marker)).toEqual([]);
    },
  );

  test('an envelope over the broker limit (64 KiB): 400 from the broker naming the rule, nothing published', async () => {
    const answer = await submit({ type: 'big', data: { blob: 'x'.repeat(70 * 1024) } });
    expect(answer.status).toBe(400);
    expect(errorOf(answer).issues?.[0]?.rule).toBe('max_bytes');
    expect((await submitted('events')).length + (await submitted('logs')).length).toBe(before.count);
  });

  test('a body over ADMIN_BODY_LIMIT: 413 body_too_large; malformed JSON: 400', async () => {
    const big = await submit({ type: 'huge', data: { blob: 'x'.repeat(300 * 1024) } });
    expect(big.status).toBe(413);
    expect(errorOf(big).code).toBe('body_too_large');
    const bad = await client.agent
      .post('/api/events')
      .set('x-csrf-token', client.csrfToken)
      .set('content-type', 'application/json')
      .send('{"type": "x",');
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toEqual(['body']);
  });

  test('free text in message and data is stored as text, unchanged', async () => {
    const text = `<script>alert(1)</script> ' OR 1=1 -- "; DROP CLASS Message; type:* AND +"x"`;
    const answer = await submit({ type: 'note', message: text, data: { text } });
    expect(answer.status).toBe(202);
    const brokerId = bodyOf<{ brokerId: string }>(answer).brokerId;
    const [entry] = await admin.broker.range('events', { start: brokerId, end: brokerId });
    expect(entry!.envelope.message).toBe(text);
    expect(entry!.envelope.data).toEqual({ text });
  });
});
