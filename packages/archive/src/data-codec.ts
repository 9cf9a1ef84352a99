/**
 * An envelope's `data` as OrientDB stores it: an embedded map (nested objects are maps, arrays
 * are embedded lists), so SQL and Studio can reach a field (`data.status = 500`). What OrientDB
 * or the driver cannot keep as it is gets a reversible form, and `decodeData` gives back the JSON
 * the message was published with:
 *
 * - keys starting with `@` (`@rid` and `@class` are dropped by the driver, and an object holding
 *   `@class` would be written as a record of that class) and keys starting with the escape `~`
 *   are stored as `~` + the key; a key with a lone UTF-16 surrogate (valid in JSON, lost in
 *   UTF-8) as `~` + its JSON string, quotes included. A key matching the field-filter rule is never escaped.
 * - a whole number OrientDB's LONG cannot hold (|n| ≥ 2^63: the driver would wrap it) and a
 *   string with a lone surrogate become a map `{ "~json": "<its JSON text>" }`; no user map can
 *   look like that, since a user's `~json` key is stored as `~~json`.
 */

const ESCAPE = '~';
const MARKER = '~json';
/** 2^63: OrientDB's LONG holds less. */
const LONG_LIMIT = 9_223_372_036_854_775_808;
const LONE_SURROGATE = /\p{Surrogate}/u;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The stored form of `data`. */
export function encodeData(data: Record<string, unknown>): Record<string, unknown> {
  return encodeObject(data as Record<string, Json>);
}

/** `data` as it was published, from its stored form (or from the JSON text older records hold). */
export function decodeData(stored: unknown): Record<string, unknown> | undefined {
  if (typeof stored === 'string') {
    return JSON.parse(stored) as Record<string, unknown>;
  }
  if (stored === null || typeof stored !== 'object' || Array.isArray(stored)) {
    return undefined;
  }
  return decodeValue(stored) as Record<string, unknown>;
}

export function encodeKey(key: string): string {
  if (LONE_SURROGATE.test(key)) {
    return ESCAPE + JSON.stringify(key);
  }
  return key.startsWith('@') || key.startsWith(ESCAPE) ? ESCAPE + key : key;
}

export function decodeKey(key: string): string {
  if (!key.startsWith(ESCAPE)) {
    return key;
  }
  const rest = key.slice(1);
  // an escaped `@...` or `~...` key never starts with the quote of the JSON form
  return rest.startsWith('"') ? (JSON.parse(rest) as string) : rest;
}

function encodeObject(value: { [key: string]: Json }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[encodeKey(key)] = encodeValue(item);
  }
  return out;
}

function encodeValue(value: Json): unknown {
  if (value === null || typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) >= LONG_LIMIT ? { [MARKER]: JSON.stringify(value) } : value;
  }
  if (typeof value === 'string') {
    return LONE_SURROGATE.test(value) ? { [MARKER]: JSON.stringify(value) } : value;
  }
  if (Array.isArray(value)) {
    return value.map(encodeValue);
  }
  return encodeObject(value);
}

function decodeValue(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(decodeValue);
  }
  if (value === null || typeof value !== 'object' || value instanceof Date) {
    return value;
  }
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === MARKER && typeof entries[0]![1] === 'string') {
    return JSON.parse(entries[0]![1]) as unknown;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    out[decodeKey(key)] = decodeValue(item);
  }
  return out;
}
