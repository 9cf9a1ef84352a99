import type { Level, MessageInput } from '@mupets/broker';
import { invalidInput, type IngestIssue } from '../ingest-error';

/*
 * OTLP/JSON logs (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): field names
 * in lowerCamelCase, 64-bit integers as a decimal string or a number, trace and span ids as hex,
 * enums as numbers. Unknown fields are ignored, as the spec asks of a receiver. A protobuf request
 * is decoded into the same shape (otlp-proto.ts), so this one reader serves both.
 *
 * One walk validates and maps: a schema library's pass over every nested AnyValue, then a second
 * pass to map it, was most of the ingest's time per OTLP record (bench:ingest).
 */

/** One OTLP log record as a message, and where it was in the request. */
export interface MappedRecord {
  readonly message: MessageInput;
  /** `resourceLogs.0.scopeLogs.1.logRecords.2`, for the partial-success message. */
  readonly path: string;
}

/** Issues past this many are not collected: the answer names the first 20 anyway. */
const MAX_ISSUES = 100;
const DECIMAL = /^-?\d{1,20}$/;
const TRACE_ID = /^(?:[0-9a-fA-F]{32})?$/;
const SPAN_ID = /^(?:[0-9a-fA-F]{16})?$/;

/** Collects what is wrong with a request while it is read; `field` paths are dotted. */
class Issues {
  readonly list: IngestIssue[] = [];

  /** Paths are joined only for an issue: a valid request builds none. */
  add(at: string, key: string | number | undefined, rule: string, message: string): undefined {
    if (this.list.length < MAX_ISSUES) {
      this.list.push({ field: join(at, key), rule, message });
    }
    return undefined;
  }

  object(value: unknown, at: string, key?: string | number): Record<string, unknown> | undefined {
    if (value === undefined) {
      return undefined;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return this.add(at, key, 'type', 'expected an object');
    }
    return value as Record<string, unknown>;
  }

  array(value: unknown, at: string, key?: string | number): readonly unknown[] {
    if (value === undefined) {
      return [];
    }
    if (!Array.isArray(value)) {
      this.add(at, key, 'type', 'expected an array');
      return [];
    }
    return value;
  }

  string(value: unknown, at: string, key?: string | number): string | undefined {
    if (value === undefined || typeof value === 'string') {
      return value;
    }
    return this.add(at, key, 'type', 'expected a string');
  }

  /** An int64 (`signed`) or uint64: a decimal string or an integer number. */
  integer(value: unknown, at: string, key: string, signed: boolean): string | number | undefined {
    if (value === undefined) {
      return undefined;
    }
    if (
      typeof value === 'number'
        ? Number.isInteger(value) && (signed || value >= 0)
        : typeof value === 'string' && DECIMAL.test(value) && (signed || value[0] !== '-')
    ) {
      return value as string | number;
    }
    return this.add(
      at,
      key,
      'format',
      signed
        ? 'expected an integer (decimal string or number)'
        : 'expected a non-negative integer (decimal string or number)',
    );
  }

  /** An integer number within [min, max]. */
  bounded(value: unknown, at: string, key: string, min: number, max: number): number | undefined {
    if (value === undefined) {
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return this.add(at, key, 'type', 'expected an integer');
    }
    if (value < min || value > max) {
      return this.add(at, key, value < min ? 'min' : 'max', `expected an integer from ${min} to ${max}`);
    }
    return value;
  }

  hex(value: unknown, at: string, key: string, pattern: RegExp, digits: number): string | undefined {
    const text = this.string(value, at, key);
    if (text === undefined || pattern.test(text)) {
      return text;
    }
    return this.add(at, key, 'format', `expected ${digits} hex digits`);
  }
}

/**
 * Every log record of a request (OTLP/JSON parsed, or protobuf decoded) as a message for the broker,
 * or a 400 naming every bad field:
 * - resource `service.name` -> `source.service`, `service.instance.id` -> `source.instance`,
 *   `host.name` -> `source.host` (a missing service.name is `unknown_service`, as OpenTelemetry names it);
 * - severityNumber (or a well-known severityText) -> `level`;
 * - a string body -> `message`; any other body is kept as `data.body` and its JSON is the message;
 * - `eventName` -> `type`, else `log` (the type every Mupets service's log lines have);
 * - `timeUnixNano` (else `observedTimeUnixNano`) -> `ts`;
 * - attributes -> `data.attributes` (the record's), `data.resource`, `data.scope`; `traceId`,
 *   `spanId` (hex) and `severityText` kept in `data` too.
 */
export function readLogsRequest(value: unknown): MappedRecord[] {
  const issues = new Issues();
  const out: MappedRecord[] = [];
  try {
    const request = issues.object(value, '') ?? {};
    issues.array(request.resourceLogs, 'resourceLogs').forEach((item, r) => {
      const at = `resourceLogs.${r}`;
      const resourceLogs = issues.object(item, at) ?? {};
      const resourceObject = issues.object(resourceLogs.resource, at, 'resource');
      const resource = attributesOf(issues, resourceObject?.attributes, `${at}.resource.attributes`);
      const source = sourceOf(resource);
      issues.array(resourceLogs.scopeLogs, at, 'scopeLogs').forEach((scopeItem, s) => {
        const scopeAt = `${at}.scopeLogs.${s}`;
        const scopeLogs = issues.object(scopeItem, scopeAt) ?? {};
        const scope = scopeOf(issues, scopeLogs.scope, `${scopeAt}.scope`);
        issues.array(scopeLogs.logRecords, scopeAt, 'logRecords').forEach((record, l) => {
          const path = `${scopeAt}.logRecords.${l}`;
          const message = messageOf(issues, issues.object(record, path) ?? {}, path, source, resource, scope);
          out.push({ message, path });
        });
      });
    });
  } catch (error) {
    if (error instanceof RangeError) {
      // only nesting deep enough to exhaust the stack gets here (JSON; protobufjs stops at 100)
      throw invalidInput([{ field: 'body', rule: 'depth', message: 'values nested too deeply' }]);
    }
    throw error;
  }
  if (issues.list.length > 0) {
    throw invalidInput(issues.list);
  }
  return out;
}

function scopeOf(issues: Issues, value: unknown, at: string): Record<string, unknown> | undefined {
  const scope = issues.object(value, at);
  if (!scope) {
    return undefined;
  }
  const name = issues.string(scope.name, at, 'name');
  const version = issues.string(scope.version, at, 'version');
  const attributes = attributesOf(issues, scope.attributes, `${at}.attributes`);
  const out: Record<string, unknown> = {};
  if (name) {
    out.name = name;
  }
  if (version) {
    out.version = version;
  }
  if (Object.keys(attributes).length > 0) {
    out.attributes = attributes;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function sourceOf(resource: Record<string, unknown>): MessageInput['source'] {
  const text = (key: string) => (typeof resource[key] === 'string' && resource[key] !== '' ? resource[key] : undefined);
  const instance = text('service.instance.id');
  const host = text('host.name');
  return {
    service: text('service.name') ?? 'unknown_service',
    ...(instance !== undefined ? { instance } : {}),
    ...(host !== undefined ? { host } : {}),
  };
}

function messageOf(
  issues: Issues,
  record: Record<string, unknown>,
  at: string,
  source: MessageInput['source'],
  resource: Record<string, unknown>,
  scope: Record<string, unknown> | undefined,
): MessageInput {
  const time = issues.integer(record.timeUnixNano, at, 'timeUnixNano', false);
  const observed = issues.integer(record.observedTimeUnixNano, at, 'observedTimeUnixNano', false);
  const severityNumber = issues.bounded(record.severityNumber, at, 'severityNumber', 0, 24);
  const severityText = issues.string(record.severityText, at, 'severityText');
  issues.bounded(record.flags, at, 'flags', 0, 0xffffffff);
  const traceId = issues.hex(record.traceId, at, 'traceId', TRACE_ID, 32);
  const spanId = issues.hex(record.spanId, at, 'spanId', SPAN_ID, 16);
  const eventName = issues.string(record.eventName, at, 'eventName');

  const data: Record<string, unknown> = {};
  if (record.attributes !== undefined) {
    const attributes = attributesOf(issues, record.attributes, `${at}.attributes`);
    if (Object.keys(attributes).length > 0) {
      data.attributes = attributes;
    }
  }
  if (Object.keys(resource).length > 0) {
    data.resource = resource;
  }
  if (scope) {
    data.scope = scope;
  }
  if (traceId) {
    data.traceId = traceId.toLowerCase();
  }
  if (spanId) {
    data.spanId = spanId.toLowerCase();
  }
  if (severityText) {
    data.severityText = severityText;
  }
  let message: string | undefined;
  if (record.body !== undefined) {
    const body = plainValue(issues, record.body, `${at}.body`);
    if (typeof body === 'string') {
      message = body;
    } else {
      data.body = body;
      message = JSON.stringify(body);
    }
  }
  const level = levelOf(severityNumber, severityText);
  const ts = isoOfNanos(time) ?? isoOfNanos(observed);
  const out: MessageInput = { type: eventName || 'log', source };
  if (ts !== undefined) {
    out.ts = ts;
  }
  if (level !== undefined) {
    out.level = level;
  }
  if (message !== undefined) {
    out.message = message;
  }
  if (Object.keys(data).length > 0) {
    out.data = data;
  }
  return out;
}

/** KeyValue pairs as an object (a later duplicate key wins, as in the SDKs). */
function attributesOf(issues: Issues, value: unknown, at: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  issues.array(value, at).forEach((item, index) => {
    const pairAt = `${at}.${index}`;
    const pair = issues.object(item, pairAt);
    if (!pair) {
      return;
    }
    if (pair.key === undefined) {
      issues.add(pairAt, 'key', 'required', 'expected a string');
    }
    const key = issues.string(pair.key, pairAt, 'key');
    const plain = plainValue(issues, pair.value, `${pairAt}.value`);
    if (key !== undefined) {
      // defineProperty: a key such as "__proto__" stays a plain key
      Object.defineProperty(out, key, { value: plain, enumerable: true, writable: true, configurable: true });
    }
  });
  return out;
}

/**
 * An AnyValue as plain JSON: int64 as a number when it is safe, else its decimal string; bytes as
 * base64; doubles the protobuf JSON mapping spells as strings (NaN, Infinity) as those strings.
 * Every field present is checked; the first in the order of the oneof is the value.
 */
function plainValue(issues: Issues, value: unknown, at: string): unknown {
  const any = issues.object(value, at);
  if (!any) {
    return null;
  }
  const { stringValue, boolValue, intValue, doubleValue, arrayValue, kvlistValue, bytesValue } = any;
  const results: unknown[] = [];
  if (stringValue !== undefined) {
    results.push(issues.string(stringValue, at, 'stringValue'));
  }
  if (boolValue !== undefined) {
    results.push(
      typeof boolValue === 'boolean' ? boolValue : issues.add(at, 'boolValue', 'type', 'expected a boolean'),
    );
  }
  if (intValue !== undefined) {
    const int = issues.integer(intValue, at, 'intValue', true);
    const asNumber = Number(int);
    results.push(int === undefined ? undefined : Number.isSafeInteger(asNumber) ? asNumber : String(int));
  }
  if (doubleValue !== undefined) {
    const valid =
      typeof doubleValue === 'number' ||
      doubleValue === 'NaN' ||
      doubleValue === 'Infinity' ||
      doubleValue === '-Infinity';
    results.push(
      valid
        ? doubleValue
        : issues.add(at, 'doubleValue', 'type', 'expected a number, "NaN", "Infinity" or "-Infinity"'),
    );
  }
  if (arrayValue !== undefined) {
    const array = issues.object(arrayValue, at, 'arrayValue');
    results.push(
      issues
        .array(array?.values, `${at}.arrayValue.values`)
        .map((item, index) => plainValue(issues, item, `${at}.arrayValue.values.${index}`)),
    );
  }
  if (kvlistValue !== undefined) {
    const list = issues.object(kvlistValue, at, 'kvlistValue');
    results.push(attributesOf(issues, list?.values, `${at}.kvlistValue.values`));
  }
  if (bytesValue !== undefined) {
    results.push(issues.string(bytesValue, at, 'bytesValue'));
  }
  return results.length > 0 ? (results[0] ?? null) : null;
}

/** OTLP SeverityNumber ranges (1-4 TRACE ... 21-24 FATAL) -> the envelope's levels. */
const BY_NUMBER: readonly Level[] = ['silly', 'debug', 'info', 'warn', 'error', 'fatal'];
const BY_TEXT: Readonly<Record<string, Level>> = {
  trace: 'silly',
  debug: 'debug',
  info: 'info',
  information: 'info',
  notice: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  err: 'error',
  fatal: 'fatal',
  critical: 'fatal',
  crit: 'fatal',
  emergency: 'fatal',
  alert: 'fatal',
};

/** The envelope level of a record: from severityNumber, else from a well-known severityText, else none. */
function levelOf(severityNumber: number | undefined, severityText: string | undefined): Level | undefined {
  if (severityNumber !== undefined && severityNumber >= 1 && severityNumber <= 24) {
    return BY_NUMBER[Math.floor((severityNumber - 1) / 4)];
  }
  const text = severityText?.trim().toLowerCase();
  if (text) {
    // hasOwn: a text such as "constructor" names no level
    return Object.hasOwn(BY_TEXT, text) ? BY_TEXT[text] : undefined;
  }
  return undefined;
}

/** Nanoseconds since the epoch (a validated uint64) as ISO-8601 UTC with milliseconds; undefined for 0 or unset. */
function isoOfNanos(nanos: string | number | undefined): string | undefined {
  if (nanos === undefined) {
    return undefined;
  }
  // the milliseconds of at most 20 digits fit a double exactly: no BigInt per record
  const ms = typeof nanos === 'number' ? Math.floor(nanos / 1e6) : nanos.length > 6 ? Number(nanos.slice(0, -6)) : 0;
  if (ms === 0) {
    return undefined;
  }
  if (ms !== lastMs) {
    const date = new Date(ms);
    // out of Date's range: send it as is, and the envelope's ts rule rejects the record
    if (Number.isNaN(date.getTime())) {
      return String(nanos);
    }
    lastMs = ms;
    lastIso = date.toISOString();
  }
  return lastIso;
}

// a batch's records are often stamped within one millisecond: its text is made once
let lastMs = Number.NaN;
let lastIso = '';

function join(at: string, key: string | number | undefined): string {
  return key === undefined ? at : at ? `${at}.${key}` : String(key);
}
