import { createHash } from 'node:crypto';
import { type Envelope, validateEnvelope } from './envelope.schema';

/**
 * The namespace of the ids given to completed envelopes (a UUID v5 namespace, RFC 9562). Fixed
 * forever: changing it would give a redelivered entry a second id. docs/wire-format.md quotes it.
 */
export const ENTRY_ID_NAMESPACE = 'c6739eb7-6483-4934-8b0b-2331cc24fa44';

const NAMESPACE_BYTES = Buffer.from(ENTRY_ID_NAMESPACE.replaceAll('-', ''), 'hex');

/** Where an entry was read: what a minimal envelope is completed from. */
export interface EntryPosition {
  /** The Redis stream key or the Kafka topic, prefix included (`mupets:events`, `mupets.events`). */
  readonly stream: string;
  readonly channel: string;
  /** The broker id: a Redis stream id (`<ms>-<seq>`) or a Kafka `<partition>-<offset>`. */
  readonly brokerId: string;
  /** When the broker says the entry was added, ms since the epoch (Redis: the id's ms; Kafka: the record timestamp). */
  readonly timeMs: number;
}

/**
 * The id of an entry that came without one: the UUID v5 of `<stream>/<broker id>` in
 * ENTRY_ID_NAMESPACE. The same entry gets the same id in every consumer, group and redelivery (the
 * archive's unique id keeps it once); Python's `uuid.uuid5` computes the same.
 */
export function entryEnvelopeId(stream: string, brokerId: string): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(`${stream}/${brokerId}`, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Reads an entry's parsed JSON as an envelope: the one rule both backends (consumers, tail and
 * range) apply. A producer that is not `@mupets/broker` may leave out `id`, `ts`, `channel` and `v`;
 * each one that is absent is filled in from the entry's position (see EntryPosition, and
 * entryEnvelopeId). A field that is present is kept as it is; the result must then be a valid
 * envelope, else EnvelopeValidationError names each bad field and rule.
 */
export function completeEnvelope(value: unknown, position: EntryPosition): Envelope {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const raw = value as Record<string, unknown>;
    if (raw.id === undefined || raw.ts === undefined || raw.channel === undefined || raw.v === undefined) {
      return validateEnvelope({
        ...raw,
        // absent only: a null is the producer's value, and the schema rejects it
        id: raw.id === undefined ? entryEnvelopeId(position.stream, position.brokerId) : raw.id,
        ts: raw.ts === undefined ? isoTime(position.timeMs) : raw.ts,
        channel: raw.channel === undefined ? position.channel : raw.channel,
        v: raw.v === undefined ? 1 : raw.v,
      });
    }
  }
  return validateEnvelope(value);
}

/** The ISO-8601 UTC form of a time, or undefined (the schema then reports `ts` as required). */
function isoTime(ms: number): string | undefined {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) || ms < 0 ? undefined : date.toISOString();
}
