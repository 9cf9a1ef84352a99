import type { Level, MessageInput } from '@mupets/broker';
import { z } from 'zod';
import { invalidInput } from '../ingest-error';

/*
 * OTLP/JSON logs (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): field names
 * in lowerCamelCase, 64-bit integers as a decimal string or a number, trace and span ids as hex,
 * enums as numbers. Unknown fields are ignored, as the spec asks of a receiver.
 */
const int64 = z.union([z.string().regex(/^-?\d{1,20}$/, 'a decimal integer'), z.number().int()]);
const uint64 = z.union([z.string().regex(/^\d{1,20}$/, 'a decimal integer'), z.number().int().min(0)]);

export interface AnyValue {
  stringValue?: string | undefined;
  boolValue?: boolean | undefined;
  intValue?: string | number | undefined;
  doubleValue?: number | string | undefined;
  arrayValue?: { values?: AnyValue[] | undefined } | undefined;
  kvlistValue?: { values?: KeyValue[] | undefined } | undefined;
  bytesValue?: string | undefined;
}
export interface KeyValue {
  key: string;
  value?: AnyValue | undefined;
}

const anyValue: z.ZodType<AnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: int64.optional(),
    // JSON has no NaN or Infinity; the protobuf JSON mapping spells them as strings
    doubleValue: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).optional(),
    arrayValue: z.object({ values: z.array(anyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(keyValue).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);
const keyValue: z.ZodType<KeyValue> = z.lazy(() => z.object({ key: z.string(), value: anyValue.optional() }));
const attributes = z.array(keyValue).optional();

const logRecord = z.object({
  timeUnixNano: uint64.optional(),
  observedTimeUnixNano: uint64.optional(),
  severityNumber: z.int().min(0).max(24).optional(),
  severityText: z.string().optional(),
  body: anyValue.optional(),
  attributes,
  flags: z.number().int().min(0).optional(),
  traceId: z
    .string()
    .regex(/^([0-9a-fA-F]{32})?$/, '32 hex digits')
    .optional(),
  spanId: z
    .string()
    .regex(/^([0-9a-fA-F]{16})?$/, '16 hex digits')
    .optional(),
  eventName: z.string().optional(),
});

export const logsRequestSchema = z.object({
  resourceLogs: z
    .array(
      z.object({
        resource: z.object({ attributes }).optional(),
        scopeLogs: z
          .array(
            z.object({
              scope: z.object({ name: z.string().optional(), version: z.string().optional(), attributes }).optional(),
              logRecords: z.array(logRecord).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

export type LogsRequest = z.infer<typeof logsRequestSchema>;
type LogRecord = z.infer<typeof logRecord>;

/** Validates a decoded request (JSON, or protobuf decoded into the same shape); 400 naming each bad field. */
export function parseLogsRequest(value: unknown): LogsRequest {
  let parsed;
  try {
    parsed = logsRequestSchema.safeParse(value);
  } catch (error) {
    if (error instanceof RangeError) {
      // only nesting deep enough to exhaust the stack gets here (JSON; protobufjs stops at 100)
      throw invalidInput([{ field: 'body', rule: 'depth', message: 'values nested too deeply' }]);
    }
    throw error;
  }
  if (!parsed.success) {
    throw invalidInput(
      parsed.error.issues.map((issue) => ({
        field: issue.path.map(String).join('.'),
        rule: issue.code,
        message: issue.message,
      })),
    );
  }
  return parsed.data;
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
export function levelOf(severityNumber: number | undefined, severityText: string | undefined): Level | undefined {
  if (severityNumber !== undefined && severityNumber >= 1 && severityNumber <= 24) {
    return BY_NUMBER[Math.floor((severityNumber - 1) / 4)];
  }
  if (severityText) {
    return BY_TEXT[severityText.trim().toLowerCase()];
  }
  return undefined;
}

/** An AnyValue as plain JSON: int64 as a number when it is safe, else its decimal string; bytes as base64. */
export function plainValue(value: AnyValue | undefined): unknown {
  if (!value) {
    return null;
  }
  if (value.stringValue !== undefined) {
    return value.stringValue;
  }
  if (value.boolValue !== undefined) {
    return value.boolValue;
  }
  if (value.intValue !== undefined) {
    const asNumber = Number(value.intValue);
    return Number.isSafeInteger(asNumber) ? asNumber : String(value.intValue);
  }
  if (value.doubleValue !== undefined) {
    return value.doubleValue;
  }
  if (value.arrayValue !== undefined) {
    return (value.arrayValue.values ?? []).map(plainValue);
  }
  if (value.kvlistValue !== undefined) {
    return plainAttributes(value.kvlistValue.values);
  }
  if (value.bytesValue !== undefined) {
    return value.bytesValue;
  }
  return null;
}

/** KeyValue pairs as an object (a later duplicate key wins, as in the SDKs). */
export function plainAttributes(pairs: readonly KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs ?? []) {
    // defineProperty: a key such as "__proto__" stays a plain key
    Object.defineProperty(out, pair.key, {
      value: plainValue(pair.value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Nanoseconds since the epoch (decimal) as ISO-8601 UTC with milliseconds; undefined for 0 or unset. */
export function isoOfNanos(nanos: string | number | undefined): string | undefined {
  if (nanos === undefined) {
    return undefined;
  }
  const ms = BigInt(nanos) / 1_000_000n;
  if (ms === 0n) {
    return undefined;
  }
  const date = new Date(Number(ms));
  // out of Date's range: send it as is, and the envelope's ts rule rejects the record
  return Number.isNaN(date.getTime()) ? String(nanos) : date.toISOString();
}

/** One OTLP log record as a message, and where it was in the request. */
export interface MappedRecord {
  readonly message: MessageInput;
  /** `resourceLogs.0.scopeLogs.1.logRecords.2`, for the partial-success message. */
  readonly path: string;
}

/**
 * Every log record of a request as a message for the broker:
 * - resource `service.name` -> `source.service`, `service.instance.id` -> `source.instance`,
 *   `host.name` -> `source.host` (a missing service.name is `unknown_service`, as OpenTelemetry names it);
 * - severityNumber (or a well-known severityText) -> `level`;
 * - a string body -> `message`; any other body is kept as `data.body` and its JSON is the message;
 * - `eventName` -> `type`, else `log` (the type every Mupets service's log lines have);
 * - `timeUnixNano` (else `observedTimeUnixNano`) -> `ts`;
 * - attributes -> `data.attributes` (the record's), `data.resource`, `data.scope`; `traceId`,
 *   `spanId` (hex) and `severityText` kept in `data` too.
 */
export function mapLogsRequest(request: LogsRequest): MappedRecord[] {
  const out: MappedRecord[] = [];
  (request.resourceLogs ?? []).forEach((resourceLogs, r) => {
    const resource = plainAttributes(resourceLogs.resource?.attributes);
    const source = sourceOf(resource);
    (resourceLogs.scopeLogs ?? []).forEach((scopeLogs, s) => {
      const scope = scopeLogs.scope
        ? {
            ...(scopeLogs.scope.name ? { name: scopeLogs.scope.name } : {}),
            ...(scopeLogs.scope.version ? { version: scopeLogs.scope.version } : {}),
            ...(scopeLogs.scope.attributes?.length ? { attributes: plainAttributes(scopeLogs.scope.attributes) } : {}),
          }
        : undefined;
      (scopeLogs.logRecords ?? []).forEach((record, l) => {
        out.push({
          message: messageOf(record, source, resource, scope),
          path: `resourceLogs.${r}.scopeLogs.${s}.logRecords.${l}`,
        });
      });
    });
  });
  return out;
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
  record: LogRecord,
  source: MessageInput['source'],
  resource: Record<string, unknown>,
  scope: Record<string, unknown> | undefined,
): MessageInput {
  const data: Record<string, unknown> = {};
  if (record.attributes?.length) {
    data.attributes = plainAttributes(record.attributes);
  }
  if (Object.keys(resource).length > 0) {
    data.resource = resource;
  }
  if (scope && Object.keys(scope).length > 0) {
    data.scope = scope;
  }
  if (record.traceId) {
    data.traceId = record.traceId.toLowerCase();
  }
  if (record.spanId) {
    data.spanId = record.spanId.toLowerCase();
  }
  if (record.severityText) {
    data.severityText = record.severityText;
  }
  let message: string | undefined;
  if (record.body !== undefined) {
    const body = plainValue(record.body);
    if (typeof body === 'string') {
      message = body;
    } else {
      data.body = body;
      message = JSON.stringify(body);
    }
  }
  const level = levelOf(record.severityNumber, record.severityText);
  const ts = isoOfNanos(record.timeUnixNano) ?? isoOfNanos(record.observedTimeUnixNano);
  return {
    type: record.eventName || 'log',
    source,
    ...(ts !== undefined ? { ts } : {}),
    ...(level !== undefined ? { level } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(Object.keys(data).length > 0 ? { data } : {}),
  };
}
