import supertest from 'supertest';
import { curl, errorOf, startTestIngest, type TestIngest } from './helpers';

/** A native 200 answer. */
interface Stored {
  channel: string;
  count: number;
  ids: string[];
  brokerIds: string[];
}
const okOf = (answer: { body: unknown }) => answer.body as Stored;

let ingest: TestIngest;
let token: string;

beforeAll(async () => {
  ingest = startTestIngest({
    file: __filename,
    env: { INGEST_MAX_RECORDS: '50', INGEST_MAX_LINE_BYTES: '2048' },
  });
  token = (await ingest.token()).token;
});

afterAll(async () => {
  await ingest.close();
});

const post = (channel: string, type = 'application/json', bearer: string | null = token) => {
  const request = supertest(ingest.app).post(`/v1/channels/${channel}/messages`).set('content-type', type);
  return bearer === null ? request : request.set('authorization', `Bearer ${bearer}`);
};

describe('stored, then answered with the ids', () => {
  test('one envelope: id, ts, channel and v filled as publish() fills them, read back from Redis', async () => {
    const answer = await post('events').send({
      type: 'order.created',
      source: { service: 'py-shop' },
      data: { order: 1 },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ channel: 'events', count: 1 });
    const [id] = okOf(answer).ids;
    const stored = (await ingest.stored('events')).find((envelope) => envelope.id === id);
    expect(stored).toMatchObject({
      id,
      channel: 'events',
      type: 'order.created',
      source: { service: 'py-shop' },
      data: { order: 1 },
      v: 1,
    });
    expect(stored?.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(okOf(answer).brokerIds[0]).toMatch(/^\d+-\d+$/);
  });

  test('an array and NDJSON: every record stored in order, given ids and ts kept, unknown fields in data', async () => {
    const array = await post('logs').send([
      { id: 'a-1', type: 'log', source: { service: 'py-shop' }, message: 'one' },
      { type: 'log', ts: '2026-01-02T03:04:05.678Z', source: { service: 'py-shop' }, level: 'warn', extra: 7 },
    ]);
    expect(array.status).toBe(200);
    expect(okOf(array).ids[0]!).toBe('a-1');
    const ndjson = await post('logs', 'application/x-ndjson').send(
      [
        JSON.stringify({ type: 'log', source: { service: 'py-shop' }, message: 'three' }),
        '',
        JSON.stringify({
          type: 'log',
          source: { service: 'py-shop', instance: 'i-2' },
          message: 'four',
          channel: 'logs',
          v: 1,
        }),
        '',
      ].join('\r\n'),
    );
    expect(ndjson.status).toBe(200);
    expect(okOf(ndjson).count).toBe(2);
    const stored = await ingest.stored('logs');
    const byId = new Map(stored.map((envelope) => [envelope.id, envelope]));
    expect(byId.get('a-1')?.message).toBe('one');
    expect(byId.get(okOf(array).ids[1]!)).toMatchObject({
      ts: '2026-01-02T03:04:05.678Z',
      level: 'warn',
      data: { extra: 7 },
    });
    expect(byId.get(okOf(ndjson).ids[1]!)).toMatchObject({
      message: 'four',
      source: { instance: 'i-2' },
      channel: 'logs',
    });
    // stream order is request order
    const ids = stored.map((envelope) => envelope.id);
    expect(ids.indexOf(okOf(ndjson).ids[0]!)).toBe(ids.indexOf(okOf(ndjson).ids[1]!) - 1);
  });

  test('curl sends NDJSON from a file-like stdin', async () => {
    const url = await ingest.listen();
    const lines = `${JSON.stringify({ type: 'curl.sent', source: { service: 'py-shop' } })}\n${JSON.stringify({ type: 'curl.sent', source: { service: 'py-shop' } })}\n`;
    const answer = await curl(
      [
        '-X', 'POST',
        '-H', `Authorization: Bearer ${token}`,
        '-H', 'Content-Type: application/x-ndjson',
        '--data-binary', '@-',
        `${url}/v1/channels/events/messages`,
      ],
      lines,
    ); // prettier-ignore
    expect(answer.status).toBe(200);
    const { ids } = JSON.parse(answer.body) as { ids: string[] };
    const stored = (await ingest.stored('events')).filter((envelope) => ids.includes(envelope.id));
    expect(stored.map((envelope) => envelope.type)).toEqual(['curl.sent', 'curl.sent']);
  });
});

describe('400: each bad record named by line (NDJSON) or index, and by field; nothing stored', () => {
  test('envelope rules broken on two lines', async () => {
    const before = (await ingest.stored('events')).length;
    const answer = await post('events', 'application/x-ndjson').send(
      [
        JSON.stringify({ type: 'ok', source: { service: 'py-shop' } }),
        '',
        JSON.stringify({ type: 'x', source: {} }),
        JSON.stringify({ type: 'x', source: { service: 'py-shop' }, level: 'loud' }),
      ].join('\n'),
    );
    expect(answer.status).toBe(400);
    const error = errorOf(answer);
    expect(error.code).toBe('invalid_input');
    expect(error.issues).toEqual([
      expect.objectContaining({ index: 1, line: 3, field: 'source.service', rule: 'required' }),
      expect.objectContaining({ index: 2, line: 4, field: 'level', rule: 'enum' }),
    ]);
    expect(error.message).toContain('line 3 source.service');
    expect((await ingest.stored('events')).length).toBe(before);
  });

  test('a line that is not JSON, a record that is not an object, a foreign channel, a wrong version', async () => {
    const notJson = await post('events', 'application/x-ndjson').send(
      '{"type":"ok","source":{"service":"py-shop"}}\n{nope\n',
    );
    expect(notJson.status).toBe(400);
    expect(errorOf(notJson).issues).toEqual([expect.objectContaining({ line: 2, rule: 'json' })]);

    const notObject = await post('events').send([{ type: 'ok', source: { service: 'py-shop' } }, 42]);
    expect(notObject.status).toBe(400);
    expect(errorOf(notObject).issues).toEqual([expect.objectContaining({ index: 1, field: '', rule: 'type' })]);

    const foreign = await post('events').send([{ type: 'ok', source: { service: 'py-shop' }, channel: 'logs', v: 2 }]);
    expect(foreign.status).toBe(400);
    expect(errorOf(foreign).issues).toEqual([
      expect.objectContaining({ index: 0, field: 'channel', rule: 'channel_mismatch' }),
      expect.objectContaining({ index: 0, field: 'v' }),
    ]);
  });

  test('a body that is not JSON, an empty body, a malformed channel name', async () => {
    const broken = await post('events').send('{"type":');
    expect([broken.status, errorOf(broken).issues?.[0]?.field]).toEqual([400, 'body']);
    const empty = await post('events', 'application/x-ndjson').send('\n\n');
    expect([empty.status, errorOf(empty).issues?.[0]?.rule]).toEqual([400, 'min']);
    const name = await post('Bad!Channel').send({ type: 'x', source: { service: 'py-shop' } });
    expect([name.status, errorOf(name).issues?.[0]?.field]).toEqual([400, 'channel']);
  });
});

describe('401: no token, a malformed one, an unknown one, a revoked one', () => {
  test('each is refused before the body is read, with WWW-Authenticate', async () => {
    const body = { type: 'x', source: { service: 'py-shop' } };
    const none = await post('events', 'application/json', null).send(body);
    expect([none.status, errorOf(none).code, none.headers['www-authenticate']]).toEqual([
      401,
      'unauthenticated',
      'Bearer',
    ]);
    const basic = await supertest(ingest.app)
      .post('/v1/channels/events/messages')
      .set('authorization', 'Basic dXNlcjpwYXNz')
      .send(body);
    expect(basic.status).toBe(401);
    const unknown = await post('events', 'application/json', `mpt_${'A'.repeat(43)}`).send(body);
    expect([unknown.status, errorOf(unknown).code]).toEqual([401, 'invalid_token']);

    const revoked = await ingest.token();
    expect((await post('events', 'application/json', revoked.token).send(body)).status).toBe(200);
    await ingest.tokens.revoke(revoked.id);
    const after = await post('events', 'application/json', revoked.token).send(body);
    expect([after.status, errorOf(after).code]).toEqual([401, 'invalid_token']);
  });
});

describe('403: outside the token scope', () => {
  test('a channel, a service, the admin service, an admin.* type: each named, nothing stored', async () => {
    const before = (await ingest.stored('events')).length;
    const channel = await post('billing').send({ type: 'x', source: { service: 'py-shop' } });
    expect([channel.status, errorOf(channel).issues?.[0]?.field]).toEqual([403, 'channel']);
    const records = await post('events').send([
      { type: 'ok', source: { service: 'py-shop' } },
      { type: 'x', source: { service: 'web' } },
      { type: 'x', source: { service: 'admin' } },
      { type: 'admin.audit', source: { service: 'py-shop' } },
    ]);
    expect(records.status).toBe(403);
    expect(errorOf(records).issues).toEqual([
      expect.objectContaining({ index: 1, field: 'source.service', rule: 'service_scope' }),
      expect.objectContaining({ index: 2, field: 'source.service', rule: 'service_scope' }),
      expect.objectContaining({ index: 3, field: 'type', rule: 'reserved_type' }),
    ]);
    expect((await ingest.stored('events')).length).toBe(before);
  });
});

describe('413 and 415', () => {
  test('a line over INGEST_MAX_LINE_BYTES names the line; too many records; a record over 64 KiB', async () => {
    const long = JSON.stringify({ type: 'x', source: { service: 'py-shop' }, message: 'y'.repeat(3000) });
    const line = await post('logs', 'application/x-ndjson').send(
      `{"type":"x","source":{"service":"py-shop"}}\n${long}\n`,
    );
    expect([line.status, errorOf(line).code]).toEqual([413, 'line_too_large']);
    expect(errorOf(line).issues).toEqual([expect.objectContaining({ line: 2, rule: 'max_bytes' })]);

    const many = Array.from({ length: 51 }, () => ({ type: 'x', source: { service: 'py-shop' } }));
    const tooMany = await post('logs').send(many);
    expect([tooMany.status, errorOf(tooMany).code]).toEqual([413, 'too_many_records']);

    const big = await post('logs').send([{ type: 'x', source: { service: 'py-shop' }, message: 'z'.repeat(70_000) }]);
    expect([big.status, errorOf(big).code]).toEqual([413, 'record_too_large']);
    expect(errorOf(big).issues).toEqual([expect.objectContaining({ index: 0, rule: 'max_bytes' })]);
  });

  test('a body over INGEST_BODY_LIMIT', async () => {
    const small = startTestIngest({ file: __filename, env: { INGEST_BODY_LIMIT: '1kb' } });
    try {
      const { token: own } = await small.token();
      const answer = await supertest(small.app)
        .post('/v1/channels/logs/messages')
        .set('authorization', `Bearer ${own}`)
        .set('content-type', 'application/json')
        .send({ type: 'x', source: { service: 'py-shop' }, message: 'y'.repeat(2000) });
      expect([answer.status, errorOf(answer).code]).toEqual([413, 'body_too_large']);
    } finally {
      await small.close();
    }
  });

  test('a media type that is neither JSON nor NDJSON', async () => {
    const answer = await post('logs', 'text/plain').send('hello');
    expect([answer.status, errorOf(answer).code]).toEqual([415, 'unsupported_media_type']);
  });
});

describe('429: the token rate', () => {
  test('a token of 2 records/s sends a batch of 5, then is told when to come back; another token is not', async () => {
    const slow = await ingest.token({ ratePerSecond: 2 });
    const batch = Array.from({ length: 5 }, () => ({ type: 'x', source: { service: 'py-shop' } }));
    expect((await post('logs', 'application/json', slow.token).send(batch)).status).toBe(200);
    const refused = await post('logs', 'application/json', slow.token).send(batch);
    expect([refused.status, errorOf(refused).code]).toEqual([429, 'rate_limited']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await post('logs').send(batch)).status).toBe(200);
  });
});
