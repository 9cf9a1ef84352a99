import { Root, type Type } from 'protobufjs/light';

/*
 * The messages of OTLP/HTTP logs (opentelemetry-proto v1: collector/logs/v1, logs/v1, common/v1,
 * resource/v1) and google.rpc.Status, as a protobufjs JSON descriptor: field names as OTLP/JSON
 * spells them (lowerCamelCase), so a decoded protobuf request has the shape of a JSON one and one
 * schema and one mapping serve both. Only the fields the ingest reads are declared; the decoder
 * skips the others, as protobuf requires. Field numbers are those of the .proto files.
 */
const keyValueList = { fields: { values: { rule: 'repeated', type: 'KeyValue', id: 1 } } };
const descriptor = {
  nested: {
    ExportLogsServiceRequest: { fields: { resourceLogs: { rule: 'repeated', type: 'ResourceLogs', id: 1 } } },
    ExportLogsServiceResponse: { fields: { partialSuccess: { type: 'ExportLogsPartialSuccess', id: 1 } } },
    ExportLogsPartialSuccess: {
      fields: { rejectedLogRecords: { type: 'int64', id: 1 }, errorMessage: { type: 'string', id: 2 } },
    },
    ResourceLogs: {
      fields: {
        resource: { type: 'Resource', id: 1 },
        scopeLogs: { rule: 'repeated', type: 'ScopeLogs', id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    Resource: { fields: { attributes: { rule: 'repeated', type: 'KeyValue', id: 1 } } },
    ScopeLogs: {
      fields: {
        scope: { type: 'InstrumentationScope', id: 1 },
        logRecords: { rule: 'repeated', type: 'LogRecord', id: 2 },
        schemaUrl: { type: 'string', id: 3 },
      },
    },
    InstrumentationScope: {
      fields: {
        name: { type: 'string', id: 1 },
        version: { type: 'string', id: 2 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 3 },
      },
    },
    LogRecord: {
      fields: {
        timeUnixNano: { type: 'fixed64', id: 1 },
        observedTimeUnixNano: { type: 'fixed64', id: 11 },
        // an enum on the wire is a varint: read as its number, as OTLP/JSON sends it
        severityNumber: { type: 'int32', id: 2 },
        severityText: { type: 'string', id: 3 },
        body: { type: 'AnyValue', id: 5 },
        attributes: { rule: 'repeated', type: 'KeyValue', id: 6 },
        droppedAttributesCount: { type: 'uint32', id: 7 },
        flags: { type: 'fixed32', id: 8 },
        traceId: { type: 'bytes', id: 9 },
        spanId: { type: 'bytes', id: 10 },
        eventName: { type: 'string', id: 12 },
      },
    },
    AnyValue: {
      oneofs: {
        value: {
          oneof: ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'],
        },
      },
      fields: {
        stringValue: { type: 'string', id: 1 },
        boolValue: { type: 'bool', id: 2 },
        intValue: { type: 'int64', id: 3 },
        doubleValue: { type: 'double', id: 4 },
        arrayValue: { type: 'ArrayValue', id: 5 },
        kvlistValue: { type: 'KeyValueList', id: 6 },
        bytesValue: { type: 'bytes', id: 7 },
      },
    },
    ArrayValue: { fields: { values: { rule: 'repeated', type: 'AnyValue', id: 1 } } },
    KeyValueList: keyValueList,
    KeyValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'AnyValue', id: 2 } } },
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
  },
};

const root = Root.fromJSON(descriptor);
const requestType: Type = root.lookupType('ExportLogsServiceRequest');
const responseType: Type = root.lookupType('ExportLogsServiceResponse');
const statusType: Type = root.lookupType('Status');

/** Thrown for bytes that are not an ExportLogsServiceRequest. */
export class OtlpDecodeError extends Error {}

/**
 * Decodes a protobuf ExportLogsServiceRequest into the OTLP/JSON shape: 64-bit integers as decimal
 * strings, `traceId`/`spanId` as hex (as OTLP/JSON has them), other bytes as base64, unset fields
 * absent. protobufjs bounds nesting (100 levels), so a deeply nested body cannot exhaust the stack.
 */
export function decodeLogsRequest(body: Uint8Array): unknown {
  let message;
  try {
    message = requestType.decode(body);
  } catch (error) {
    throw new OtlpDecodeError(error instanceof Error ? error.message : String(error));
  }
  const object = requestType.toObject(message, { longs: String, bytes: String, defaults: false, arrays: false });
  for (const resourceLogs of asArray(object.resourceLogs)) {
    for (const scopeLogs of asArray((resourceLogs as { scopeLogs?: unknown }).scopeLogs)) {
      for (const record of asArray((scopeLogs as { logRecords?: unknown }).logRecords)) {
        const log = record as { traceId?: string; spanId?: string };
        if (log.traceId !== undefined) {
          log.traceId = Buffer.from(log.traceId, 'base64').toString('hex');
        }
        if (log.spanId !== undefined) {
          log.spanId = Buffer.from(log.spanId, 'base64').toString('hex');
        }
      }
    }
  }
  return object;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** An ExportLogsServiceResponse; with `rejected` > 0, its partial_success. */
export function encodeLogsResponse(rejected: number, errorMessage: string): Buffer {
  const payload = rejected > 0 ? { partialSuccess: { rejectedLogRecords: rejected, errorMessage } } : {};
  return Buffer.from(responseType.encode(responseType.fromObject(payload)).finish());
}

/** A google.rpc.Status, the body of an OTLP/HTTP error answer. */
export function encodeStatus(code: number, message: string): Buffer {
  return Buffer.from(statusType.encode(statusType.fromObject({ code, message })).finish());
}
