import { completeEnvelope } from '../envelope-completion';
import type { Envelope } from '../envelope.schema';
import { EnvelopeValidationError } from '../errors';
import { streamIdTime } from './stream-id';

/** The single stream field that holds the envelope's JSON. */
export const ENVELOPE_FIELD = 'e';

export type RawEntry = [id: string, fields: string[] | null];

export type ParsedEntry =
  | { readonly ok: true; readonly id: string; readonly envelope: Envelope }
  | { readonly ok: false; readonly id: string; readonly fields: string[] | null; readonly error: Error };

/** The stream an entry was read from: its key (prefix included) and its channel. */
export interface StreamOrigin {
  readonly key: string;
  readonly channel: string;
}

/**
 * Reads an envelope back from a stream entry, completing a minimal one (completeEnvelope: its time
 * is the id's milliseconds); a malformed entry is reported, never thrown.
 */
export function parseEntry([id, fields]: RawEntry, origin: StreamOrigin): ParsedEntry {
  if (!fields) {
    return { ok: false, id, fields, error: new Error('entry was deleted from the stream') };
  }
  let json: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === ENVELOPE_FIELD) {
      json = fields[i + 1];
      break;
    }
  }
  if (json === undefined) {
    return { ok: false, id, fields, error: new Error(`entry has no "${ENVELOPE_FIELD}" field`) };
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, id, fields, error: new Error(`entry is not valid JSON: ${(error as Error).message}`) };
  }
  try {
    const position = { stream: origin.key, channel: origin.channel, brokerId: id, timeMs: streamIdTime(id) };
    return { ok: true, id, envelope: completeEnvelope(value, position) };
  } catch (error) {
    return { ok: false, id, fields, error: error instanceof EnvelopeValidationError ? error : (error as Error) };
  }
}

/** XREAD/XREADGROUP reply for one stream → its entries. */
export function entriesOf(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) {
    return [];
  }
  const [, entries] = reply[0] as [string, RawEntry[]];
  return entries ?? [];
}
