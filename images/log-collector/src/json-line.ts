import { ENVELOPE_ID_FIELD } from '@mupets/cargo';
import type { Level } from '@mupets/broker';
import { normalizeLevel } from './log-level';

/** What a parser understood of one log record. */
export interface ParsedRecord {
  level: Level | undefined;
  message: string;
  /** Every other field of the record (JSON, logfmt); empty for plain text. */
  fields: Record<string, unknown>;
  /** The record's own time, when it carries one as an ISO-8601 UTC string. */
  time?: string;
  /** The envelope id a cargo service printed (`envelopeId`), to be published under the same id. */
  envelopeId?: string;
}

// field names per logger: winston/pino/bunyan `level`, zap `level`, slog `level`, Python json
// loggers `levelname`, ECS `log.level`, Serilog compact `@l`, GELF-ish `severity`
const LEVEL_KEYS = ['level', 'levelname', 'severity', 'lvl', 'log.level', '@l', 'loglevel'];
// winston `message`, pino/bunyan/slog/zap `msg`, Serilog `@m`/`@mt`, structlog `event`
const MESSAGE_KEYS = ['message', 'msg', '@m', '@mt', 'event'];
// winston `timestamp`, pino/bunyan `time` (bunyan ISO, pino epoch ms), slog `time`, zap `ts`, Serilog `@t`
const TIME_KEYS = ['timestamp', 'time', 'ts', '@t', 'asctime'];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A JSON log line (one object): level, message and time from the field names the common loggers
 * use, everything else as fields. Undefined when the line is not a JSON object.
 */
export function parseJsonLine(text: string): ParsedRecord | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return undefined;
  }
  return fromFields({ ...(value as Record<string, unknown>) }, trimmed);
}

/**
 * Shared by the JSON and logfmt parsers: takes level, message, time and a cargo envelope id out of
 * `fields` (which it changes), leaving the rest as the record's fields.
 */
export function fromFields(fields: Record<string, unknown>, raw: string): ParsedRecord {
  const levelKey = LEVEL_KEYS.find((key) => key in fields && normalizeLevel(fields[key]) !== undefined);
  const level = levelKey === undefined ? undefined : normalizeLevel(fields[levelKey]);
  if (levelKey !== undefined) {
    delete fields[levelKey];
  }
  const messageKey = MESSAGE_KEYS.find((key) => key in fields && typeof fields[key] === 'string');
  let message = raw;
  if (messageKey !== undefined) {
    message = fields[messageKey] as string;
    delete fields[messageKey];
  }
  const record: ParsedRecord = { level, message, fields };
  const timeKey = TIME_KEYS.find((key) => key in fields && fields[key] !== undefined);
  if (timeKey !== undefined) {
    const time = toIsoUtc(fields[timeKey]);
    if (time !== undefined) {
      record.time = time;
      delete fields[timeKey];
    }
  }
  const envelopeId = ENVELOPE_ID_FIELD in fields ? fields[ENVELOPE_ID_FIELD] : undefined;
  if (typeof envelopeId === 'string' && UUID.test(envelopeId)) {
    record.envelopeId = envelopeId;
    delete fields[ENVELOPE_ID_FIELD];
  }
  return record;
}

/** An ISO-8601 UTC string as is, or epoch milliseconds (pino) as one; else undefined. */
function toIsoUtc(value: unknown): string | undefined {
  if (typeof value === 'string' && ISO_UTC.test(value)) {
    return value;
  }
  // pino's default: epoch ms; plausible range only (2001..2286), so a counter is not read as a time
  if (typeof value === 'number' && Number.isInteger(value) && value > 1e12 && value < 1e13) {
    return new Date(value).toISOString();
  }
  return undefined;
}
