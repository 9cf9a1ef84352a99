import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { waitFor } from '@mupets/testkit';
import supertest from 'supertest';
import { decodeLogsRequest } from '../src/otlp/otlp-proto';
import { curl, startTestIngest, type TestIngest } from './helpers';

/** An OTLP JSON answer: an ExportLogsServiceResponse, or a google.rpc.Status. */
interface OtlpAnswer {
  partialSuccess: { rejectedLogRecords: number; errorMessage: string };
  code: number;
  message: string;
}
const rpcOf = (answer: { body: unknown }) => answer.body as OtlpAnswer;

let ingest: TestIngest;
let url: string;
let token: string;

beforeAll(async () => {
  ingest = startTestIngest({ file: __filename });
  url = await ingest.listen();
  token = (await ingest.token({ channels: ['logs'], services: ['checkout', 'py-shop'] })).token;
});

afterAll(async () => {
  await ingest.close();
});

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';

/** Runs the SDK fixture in its own process; resolves with the exporter's result (code 0: success). */
function emitWith(
  protocol: 'json' | 'proto',
  target: string,
  bearer: string,
  marker: string,
): Promise<{ code: number; error?: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(__dirname, 'fixtures', 'otel-emit.js'), protocol, target, bearer, marker],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`otel-emit failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop()!) as { code: number; error?: string });
      },
    );
  });
}

for (const [name, protocol] of [
  ['OTLP/JSON (exporter-logs-otlp-http)', 'json'],
  ['OTLP protobuf (exporter-logs-otlp-proto)', 'proto'],
] as const) {
  test(`${name}: service, severity, body, attributes, trace and span ids arrive in the envelope`, async () => {
    const marker = Math.random().toString(36).slice(2);
    expect(await emitWith(protocol, `${url}/v1/logs`, token, marker)).toEqual({ code: 0 });
    const stored = await waitFor(
      async () => {
        const mine = (await ingest.stored('logs')).filter((e) => JSON.stringify(e).includes(marker));
        return mine.length === 2 ? mine : undefined;
      },
      { what: 'both records stored' },
    );
    const [first, second] = stored;
    expect(first).toMatchObject({
      channel: 'logs',
      type: 'log',
      source: { service: 'checkout', instance: 'pod-7', host: 'node-1' },
      level: 'warn',
      message: `card declined ${marker}`,
      data: {
        attributes: { 'order.id': 42, retry: true, 'http.route': '/pay' },
        resource: { 'service.name': 'checkout' },
        scope: { name: 'payments', version: '1.2.3' },
        traceId: TRACE_ID,
        spanId: SPAN_ID,
        severityText: 'WARN',
      },
      v: 1,
    });
    // the SDK stamps the time it observed the record; ts is taken from it
    expect(Math.abs(Date.parse(first!.ts) - Date.now())).toBeLessThan(10 * 60_000);
    expect(second).toMatchObject({
      type: 'payment.failed',
      level: 'error',
      data: { body: { reason: 'timeout', marker, attempts: [1, 2] } },
    });
    expect(JSON.parse(second!.message!)).toEqual({ reason: 'timeout', marker, attempts: [1, 2] });
  });
}

test('curl posts OTLP/JSON: stored; a service outside the scope is a partial success naming the record', async () => {
  const request = {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'py-shop' } }] },
        scopeLogs: [
          {
            logRecords: [
              {
                timeUnixNano: '1767323045678000000',
                severityNumber: 9,
                body: { stringValue: 'from curl' },
                attributes: [{ key: 'big', value: { intValue: '9007199254740993' } }],
              },
            ],
          },
        ],
      },
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'intruder' } }] },
        scopeLogs: [{ logRecords: [{ body: { stringValue: 'not mine to send' } }] }],
      },
    ],
  };
  const answer = await curl(
    [
      '-X',
      'POST',
      '-H',
      `Authorization: Bearer ${token}`,
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      '@-',
      `${url}/v1/logs`,
    ],
    JSON.stringify(request),
  );
  expect(answer.status).toBe(200);
  const body = JSON.parse(answer.body) as { partialSuccess: { rejectedLogRecords: number; errorMessage: string } };
  expect(body.partialSuccess.rejectedLogRecords).toBe(1);
  expect(body.partialSuccess.errorMessage).toContain('resourceLogs.1.scopeLogs.0.logRecords.0: source.service');
  const stored = await ingest.stored('logs');
  const fromCurl = stored.find((e) => e.message === 'from curl');
  expect(fromCurl).toMatchObject({
    ts: '2026-01-02T03:04:05.678Z',
    level: 'info',
    source: { service: 'py-shop' },
    data: { attributes: { big: '9007199254740993' } },
  });
  expect(stored.some((e) => e.message === 'not mine to send')).toBe(false);
});

test('a record the envelope refuses is rejected by name, the others stored (partial success)', async () => {
  const answer = await supertest(ingest.app)
    .post('/v1/logs')
    .set('authorization', `Bearer ${token}`)
    .set('content-type', 'application/json')
    .send({
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] },
          scopeLogs: [
            { logRecords: [{ body: { stringValue: 'fine one' } }, { body: { stringValue: 'x'.repeat(70_000) } }] },
          ],
        },
      ],
    });
  expect(answer.status).toBe(200);
  expect(rpcOf(answer).partialSuccess.rejectedLogRecords).toBe(1);
  expect(rpcOf(answer).partialSuccess.errorMessage).toContain('resourceLogs.0.scopeLogs.0.logRecords.1');
  expect((await ingest.stored('logs')).some((e) => e.message === 'fine one')).toBe(true);
});

test('the SDK is told when its token is refused or its channel is out of scope (export fails, nothing stored)', async () => {
  const refused = await emitWith('proto', `${url}/v1/logs`, `mpt_${'B'.repeat(43)}`, 'refused');
  expect(refused.code).toBe(1);
  const eventsOnly = (await ingest.token({ channels: ['events'], services: ['checkout'] })).token;
  const forbidden = await emitWith('json', `${url}/v1/logs`, eventsOnly, 'forbidden');
  expect(forbidden.code).toBe(1);
  const stored = JSON.stringify(await ingest.stored('logs'));
  expect(stored).not.toContain('refused');
  expect(stored).not.toContain('forbidden');
});

test('errors answer a google.rpc.Status (JSON or protobuf like the request): 400, 401, 403, 415', async () => {
  const json = await supertest(ingest.app)
    .post('/v1/logs')
    .set('authorization', `Bearer ${token}`)
    .set('content-type', 'application/json')
    .send({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 99, traceId: 'zz' }] }] }] });
  expect(json.status).toBe(400);
  expect(rpcOf(json).code).toBe(3);
  expect(rpcOf(json).message).toContain('resourceLogs.0.scopeLogs.0.logRecords.0.severityNumber');
  expect(rpcOf(json).message).toContain('resourceLogs.0.scopeLogs.0.logRecords.0.traceId');

  const garbage = await supertest(ingest.app)
    .post('/v1/logs')
    .set('authorization', `Bearer ${token}`)
    .set('content-type', 'application/x-protobuf')
    .send(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
  expect(garbage.status).toBe(400);
  expect(garbage.headers['content-type']).toContain('application/x-protobuf');

  const anonymous = await supertest(ingest.app).post('/v1/logs').set('content-type', 'application/json').send({});
  expect([anonymous.status, rpcOf(anonymous).code]).toEqual([401, 16]);

  const eventsOnly = (await ingest.token({ channels: ['events'] })).token;
  const forbidden = await supertest(ingest.app)
    .post('/v1/logs')
    .set('authorization', `Bearer ${eventsOnly}`)
    .set('content-type', 'application/json')
    .send({});
  expect([forbidden.status, rpcOf(forbidden).code]).toEqual([403, 7]);

  const text = await supertest(ingest.app)
    .post('/v1/logs')
    .set('authorization', `Bearer ${token}`)
    .set('content-type', 'text/plain')
    .send('x');
  expect(text.status).toBe(415);
});

test('the protobuf decoder reads what the official exporter encodes (trace ids as hex)', async () => {
  let captured: Buffer | undefined;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      captured = Buffer.concat(chunks);
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    await emitWith('proto', `http://127.0.0.1:${port}/v1/logs`, '-', 'decoded');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const decoded = JSON.stringify(decodeLogsRequest(captured!));
  expect(decoded).toContain(`"traceId":"${TRACE_ID}"`);
  expect(decoded).toContain('"severityNumber":13');
  expect(decoded).toContain('"key":"order.id","value":{"intValue":"42"}');
});
