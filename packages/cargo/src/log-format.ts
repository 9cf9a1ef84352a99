import { randomUUID } from 'node:crypto';
import { format as winstonFormat, type Logform } from 'winston';
import { redactSecrets } from './redact';

// winston's bookkeeping symbols (triple-beam registers them globally; it is not our dependency)
const MESSAGE = Symbol.for('message');
const SPLAT = Symbol.for('splat');

/**
 * The envelope id of an entry, assigned once before every transport: the broker transport publishes
 * the entry under it and stdout prints it as `envelopeId`, so a log-collector reading stdout
 * publishes the same id and the archive's unique index keeps one record.
 */
export const ENVELOPE_ID: unique symbol = Symbol.for('mupets.cargo.envelopeId') as never;

/** The field of a JSON line (and the key of a pretty line) that carries {@link ENVELOPE_ID}. */
export const ENVELOPE_ID_FIELD = 'envelopeId';

/** Fields every entry has; everything else on the entry is metadata. */
const BASE_FIELDS = new Set(['timestamp', 'level', 'message', 'service']);

/**
 * Runs before every transport: copies the entry with secrets redacted and Errors serialized, so
 * stdout and the broker see the same, safe metadata. Never mutates the caller's objects.
 */
export const redactFormat = winstonFormat((info) => {
  const out: Logform.TransformableInfo = { level: info.level, message: info.message };
  const source = info as unknown as Record<string | symbol, unknown>;
  if (info instanceof Error) {
    // logger.error(err): the entry IS the error, and message/stack/cause are not enumerable
    out.message = info.message;
    out.stack = info.stack;
    if (info.cause !== undefined) {
      out.cause = info.cause;
    }
  }
  for (const key of Object.keys(info)) {
    if (key !== 'level' && key !== 'message') {
      out[key] = source[key];
    }
  }
  const redacted = redactSecrets(out) as Logform.TransformableInfo;
  // the symbols carry winston's bookkeeping (LEVEL) and ours (local-only); SPLAT holds the raw,
  // unredacted arguments, so it is left behind
  for (const symbol of Object.getOwnPropertySymbols(info)) {
    if (symbol !== SPLAT) {
      (redacted as unknown as Record<symbol, unknown>)[symbol] = source[symbol];
    }
  }
  if (typeof redacted.message !== 'string') {
    redacted.message = stringify(redacted.message);
  }
  return redacted;
});

/** Gives the entry its envelope id (see {@link ENVELOPE_ID}), unless it has one. */
export const envelopeIdFormat = winstonFormat((info) => {
  const fields = info as unknown as Record<symbol, unknown>;
  if (typeof fields[ENVELOPE_ID] !== 'string') {
    fields[ENVELOPE_ID] = randomUUID();
  }
  return info;
});

/** One JSON object per line: timestamp, level, message, service, then the metadata, then `envelopeId`. */
export const jsonLineFormat = winstonFormat((info) => {
  const { timestamp, level, message, service, ...metadata } = info as Record<string, unknown>;
  const id = envelopeIdOf(info);
  try {
    info[MESSAGE] = JSON.stringify({ timestamp, level, message, service, ...metadata, ...id }, jsonReplacer);
  } catch (error) {
    // a transport format that throws would surface as an exception in the service
    info[MESSAGE] = JSON.stringify({
      timestamp,
      level,
      message: stringify(message),
      service,
      formatError: String(error),
      ...id,
    });
  }
  return info;
});

/** `2026-11-23T05:00:00.000Z info  [service/component] message key=value ...`, always one line. */
export const prettyLineFormat = winstonFormat((info) => {
  const fields = info as Record<string, unknown>;
  const scope =
    fields.component === undefined
      ? stringify(fields.service)
      : `${stringify(fields.service)}/${stringify(fields.component)}`;
  let line = `${stringify(fields.timestamp)} ${info.level.padEnd(5)} [${scope}] ${oneLine(stringify(info.message))}`;
  for (const key of Object.keys(fields)) {
    if (!BASE_FIELDS.has(key) && key !== 'component') {
      line += ` ${key}=${prettyValue(fields[key])}`;
    }
  }
  const id = envelopeIdOf(info)[ENVELOPE_ID_FIELD];
  if (id !== undefined) {
    line += ` ${ENVELOPE_ID_FIELD}=${id}`;
  }
  info[MESSAGE] = line;
  return info;
});

function envelopeIdOf(info: object): { [ENVELOPE_ID_FIELD]?: string } {
  const id = (info as Record<symbol, unknown>)[ENVELOPE_ID];
  return typeof id === 'string' ? { [ENVELOPE_ID_FIELD]: id } : {};
}

function prettyValue(value: unknown): string {
  if (typeof value === 'string') {
    return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  }
  return stringify(value);
}

/** JSON.stringify cannot write a BigInt; a string keeps every digit. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function stringify(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'undefined':
      return '';
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return value.toString();
    default:
      try {
        return JSON.stringify(value, jsonReplacer) ?? '';
      } catch {
        return '[Unserializable]';
      }
  }
}

function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '\\n');
}
