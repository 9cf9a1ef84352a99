import { createHash } from 'node:crypto';

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Nanoseconds since the epoch of a Docker log timestamp (RFC 3339 with up to nine fraction digits;
 * Docker trims trailing zeros, so the strings do not sort as text). Throws on anything else.
 */
export function toNanos(ts: string): bigint {
  const match = RFC3339.exec(ts);
  const ms = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(ms)) {
    throw new TypeError(`not a Docker log timestamp: ${JSON.stringify(ts)}`);
  }
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** Docker's `since` for the logs endpoint: `<seconds>.<nanoseconds>`. */
export function sinceArgument(ts: string): string {
  const nanos = toNanos(ts);
  return `${nanos / 1_000_000_000n}.${String(nanos % 1_000_000_000n).padStart(9, '0')}`;
}

const UTC_STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/** ISO-8601 UTC with milliseconds, as the envelope's `ts` takes it. */
export function toIsoMillis(ts: string): string {
  // Docker writes UTC: cutting the string is much cheaper than a Date per line
  const utc = UTC_STAMP.exec(ts);
  if (utc) {
    return `${utc[1]}.${(utc[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  }
  return new Date(Number(toNanos(ts) / 1_000_000n)).toISOString();
}

/**
 * The envelope id of a container's line: container and position, so the same line gets the same
 * id however often it is published (the archive's unique index then keeps one record). Plain
 * concatenation: a hash per line cost a fifth of the collector's throughput.
 */
export function lineId(containerId: string, position: { ts: string; n: number }): string {
  return `${containerId.slice(0, 16)}:${position.ts}:${position.n}`;
}

/**
 * A UUID derived from its parts (SHA-1, shaped as a version-5 UUID): the same line of the same
 * container gets the same envelope id however often it is published, so the archive's unique index
 * keeps one record even when a crash repeats a publish.
 */
export function stableId(...parts: string[]): string {
  const hash = createHash('sha1').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
