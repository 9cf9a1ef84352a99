/** Metadata keys whose values never reach a log line or the broker. */
export const SECRET_KEY_PATTERN = /password|passwd|secret|token|authorization|cookie|api[-_]?key/i;

export const REDACTED = '[REDACTED]';

/** Beyond this depth a value is summarised: log metadata that deep is a mistake, not data. */
const MAX_DEPTH = 12;

/** A plain, JSON-shaped copy of an Error: what `JSON.stringify(error)` (`{}`) loses. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  cause?: unknown;
  [property: string]: unknown;
}

/**
 * Copies `value` into plain objects, arrays and primitives that a log line can carry: secret-looking
 * keys get `[REDACTED]` at any depth, Errors become `{ name, message, stack, cause, ... }`
 * (recursively), Maps and Sets become objects and arrays, credentials are cut out of URL objects,
 * circular references become `[Circular]`. Never mutates `value`; never throws.
 */
export function redactSecrets(value: unknown): unknown {
  return walk(value, new Set<object>(), 0);
}

/** `redactSecrets` for an Error, typed. */
export function serializeError(error: Error): SerializedError {
  return walk(error, new Set<object>(), 0) as SerializedError;
}

function walk(value: unknown, ancestors: Set<object>, depth: number): unknown {
  if (value === null || typeof value !== 'object') {
    // bigint, symbol and function stay as they are: each output format decides how to print them
    return value;
  }
  if (ancestors.has(value)) {
    return '[Circular]';
  }
  if (depth >= MAX_DEPTH) {
    return '[Truncated]';
  }
  // only ancestors count: the same object twice side by side is not a cycle
  ancestors.add(value);
  try {
    return walkObject(value, ancestors, depth + 1);
  } catch (error) {
    // a throwing getter or toJSON must not take the log call down with it
    return `[Unserializable: ${error instanceof Error ? error.message : String(error)}]`;
  } finally {
    ancestors.delete(value);
  }
}

function walkObject(value: object, ancestors: Set<object>, depth: number): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => walk(item, ancestors, depth));
  }
  if (value instanceof Error) {
    return walkError(value, ancestors, depth);
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  }
  if (value instanceof URL) {
    return withoutCredentials(value);
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value) {
      const name = String(key);
      out[name] = SECRET_KEY_PATTERN.test(name) ? REDACTED : walk(item, ancestors, depth);
    }
    return out;
  }
  if (value instanceof Set) {
    return [...value].map((item) => walk(item, ancestors, depth));
  }
  if (ArrayBuffer.isView(value)) {
    return `[${value.constructor.name} ${value.byteLength} bytes]`;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    return walk(toJSON.call(value), ancestors, depth);
  }
  return walkEntries(value, ancestors, depth, {});
}

function walkEntries(
  value: object,
  ancestors: Set<object>,
  depth: number,
  out: Record<string, unknown>,
): Record<string, unknown> {
  for (const key of Object.keys(value)) {
    out[key] = SECRET_KEY_PATTERN.test(key)
      ? REDACTED
      : walk((value as Record<string, unknown>)[key], ancestors, depth);
  }
  return out;
}

function walkError(error: Error, ancestors: Set<object>, depth: number): SerializedError {
  const out: SerializedError = { name: error.name, message: error.message };
  if (error.stack !== undefined) {
    out.stack = error.stack;
  }
  // own enumerable fields carry the useful extras (code, status, issues, ...)
  walkEntries(error, ancestors, depth, out);
  // cause and AggregateError's errors are own but non-enumerable
  if ('cause' in error && error.cause !== undefined) {
    out.cause = walk(error.cause, ancestors, depth);
  }
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    out.errors = walk(errors, ancestors, depth);
  }
  return out;
}

function withoutCredentials(url: URL): string {
  if (!url.username && !url.password) {
    return url.href;
  }
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy.href;
}
