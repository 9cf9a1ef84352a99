import { IngestError } from '../ingest-error';
import { readLogsRequest } from './otlp-logs';

const RESOURCE = {
  attributes: [
    { key: 'service.name', value: { stringValue: 'py-shop' } },
    { key: 'service.instance.id', value: { stringValue: 'shop-1' } },
    { key: 'host.name', value: { stringValue: 'node-a' } },
  ],
};

function request(record: Record<string, unknown>, extra: Record<string, unknown> = {}): unknown {
  return {
    resourceLogs: [
      { resource: RESOURCE, scopeLogs: [{ scope: { name: 'lib', version: '1.2' }, logRecords: [record] }] },
    ],
    ...extra,
  };
}

/** The issues of the 400 a request gets, as `field [rule]`. */
function issuesOf(value: unknown): string[] {
  try {
    readLogsRequest(value);
  } catch (error) {
    expect(error).toBeInstanceOf(IngestError);
    expect((error as IngestError).status).toBe(400);
    return ((error as IngestError).issues ?? []).map((issue) => `${issue.field} [${issue.rule}]`);
  }
  throw new Error('accepted');
}

test('a record maps to an envelope: source from the resource, level, message, ts, data', () => {
  const [mapped] = readLogsRequest(
    request({
      timeUnixNano: '1767225600123456789',
      severityNumber: 17,
      severityText: 'ERROR',
      body: { stringValue: 'card declined' },
      attributes: [
        { key: 'order.id', value: { intValue: '42' } },
        { key: 'big', value: { intValue: '9007199254740993' } },
        { key: 'ratio', value: { doubleValue: 0.5 } },
        { key: 'ok', value: { boolValue: false } },
        { key: 'tags', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 1 }] } } },
        { key: 'nested', value: { kvlistValue: { values: [{ key: 'k', value: { stringValue: 'v' } }] } } },
        { key: '__proto__', value: { stringValue: 'plain key' } },
        { key: 'empty' },
      ],
      traceId: '5B8EFFF798038103D269B633813FC60C',
      spanId: 'EEE19B7EC3C1B174',
      eventName: 'payment.failed',
      unknownField: 'ignored',
    }),
  );
  expect(mapped!.path).toBe('resourceLogs.0.scopeLogs.0.logRecords.0');
  const message = mapped!.message;
  expect(message).toEqual({
    type: 'payment.failed',
    source: { service: 'py-shop', instance: 'shop-1', host: 'node-a' },
    ts: '2026-01-01T00:00:00.123Z',
    level: 'error',
    message: 'card declined',
    data: {
      attributes: expect.any(Object),
      resource: { 'service.name': 'py-shop', 'service.instance.id': 'shop-1', 'host.name': 'node-a' },
      scope: { name: 'lib', version: '1.2' },
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      severityText: 'ERROR',
    },
  });
  const attributes = (message.data as { attributes: Record<string, unknown> }).attributes;
  // JSON.parse, not a literal: a literal's __proto__ would set the prototype
  expect(JSON.parse(JSON.stringify(attributes))).toEqual(
    JSON.parse(
      '{"order.id":42,"big":"9007199254740993","ratio":0.5,"ok":false,"tags":["a",1],"nested":{"k":"v"},"__proto__":"plain key","empty":null}',
    ),
  );
  expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
});

test('defaults: no service.name is unknown_service, no eventName is log, observed time stands in for time (a JSON number past 2^53 too)', () => {
  const [mapped] = readLogsRequest({
    resourceLogs: [
      { scopeLogs: [{ logRecords: [{ observedTimeUnixNano: 1767225600000000000, severityText: 'Warning' }] }] },
    ],
  });
  expect(mapped!.message).toEqual({
    type: 'log',
    source: { service: 'unknown_service' },
    ts: '2026-01-01T00:00:00.000Z',
    level: 'warn',
    data: { severityText: 'Warning' },
  });
});

test('a body that is not a string is kept in data.body, its JSON the message; 0 times are unset', () => {
  const [mapped] = readLogsRequest(
    request({ timeUnixNano: '0', body: { kvlistValue: { values: [{ key: 'status', value: { intValue: 500 } }] } } }),
  );
  expect(mapped!.message.message).toBe('{"status":500}');
  expect(mapped!.message.data?.body).toEqual({ status: 500 });
  expect(mapped!.message.ts).toBeUndefined();
});

test('every record of every resource and scope, with its path', () => {
  const mapped = readLogsRequest({
    resourceLogs: [
      { scopeLogs: [{ logRecords: [{}, {}] }, {}] },
      { resource: RESOURCE, scopeLogs: [{ logRecords: [] }, { logRecords: [{ body: { stringValue: 'x' } }] }] },
      {},
    ],
  });
  expect(mapped.map((record) => record.path)).toEqual([
    'resourceLogs.0.scopeLogs.0.logRecords.0',
    'resourceLogs.0.scopeLogs.0.logRecords.1',
    'resourceLogs.1.scopeLogs.1.logRecords.0',
  ]);
  expect(mapped[2]!.message.source.service).toBe('py-shop');
  expect(readLogsRequest({})).toEqual([]);
});

test('bad fields are named with their path, every one of them', () => {
  const issues = issuesOf(
    request({
      timeUnixNano: '12x',
      observedTimeUnixNano: -1,
      severityNumber: 99,
      severityText: 3,
      flags: 1.5,
      traceId: 'zz',
      spanId: '0123',
      eventName: null,
      body: { intValue: 'ten', doubleValue: 'NaNa' },
      attributes: [{ value: { stringValue: 'no key' } }, { key: 'k', value: { boolValue: 'yes' } }, 'pair'],
    }),
  );
  const at = 'resourceLogs.0.scopeLogs.0.logRecords.0';
  expect(issues.map((issue) => issue.split(' ')[0])).toEqual(
    expect.arrayContaining([
      `${at}.timeUnixNano`,
      `${at}.observedTimeUnixNano`,
      `${at}.severityNumber`,
      `${at}.severityText`,
      `${at}.flags`,
      `${at}.traceId`,
      `${at}.spanId`,
      `${at}.eventName`,
      `${at}.body.intValue`,
      `${at}.body.doubleValue`,
      `${at}.attributes.0.key`,
      `${at}.attributes.1.value.boolValue`,
      `${at}.attributes.2`,
    ]),
  );
});

test('the request and its lists must have their types', () => {
  expect(issuesOf([])).toEqual([expect.stringMatching(/^ \[|^\S* ?\[/)]);
  expect(issuesOf({ resourceLogs: {} })[0]).toMatch(/^resourceLogs \[/);
  expect(issuesOf({ resourceLogs: [{ scopeLogs: 'x' }] })[0]).toMatch(/^resourceLogs\.0\.scopeLogs \[/);
  expect(issuesOf({ resourceLogs: [{ resource: { attributes: [{ key: 1 }] } }] })[0]).toMatch(
    /^resourceLogs\.0\.resource\.attributes\.0\.key \[/,
  );
  expect(issuesOf({ resourceLogs: [{ scopeLogs: [{ scope: { name: 1 } }] }] })[0]).toMatch(
    /^resourceLogs\.0\.scopeLogs\.0\.scope\.name \[/,
  );
});

test('a body nested beyond any reason is a 400 naming the depth, not a crashed stack', () => {
  let body: Record<string, unknown> = { stringValue: 'deep' };
  for (let i = 0; i < 100_000; i++) {
    body = { arrayValue: { values: [body] } };
  }
  expect(issuesOf(request({ body }))).toEqual(['body [depth]']);
});
