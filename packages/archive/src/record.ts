import type { Envelope, Level } from '@mupets/broker';
import { decodeData, encodeData } from './data-codec';

/** What the archiver hands to the writer: a message as read from a channel. */
export interface ArchiveInput {
  /** The broker's id for the entry (e.g. a Redis stream id). */
  readonly brokerId: string;
  readonly channel: string;
  readonly envelope: Envelope;
}

/** A record as the query API returns it. */
export interface ArchivedMessage {
  /** The envelope id. */
  readonly id: string;
  readonly channel: string;
  readonly brokerId: string;
  /** The envelope's `ts`, ISO-8601 UTC with milliseconds. */
  readonly ts: string;
  readonly type: string;
  readonly service: string;
  readonly instance?: string;
  readonly host?: string;
  readonly level?: Level;
  readonly message?: string;
  readonly data?: Record<string, unknown>;
  /** Keyset cursor of this record: pass it as `before` to get the records older than it. */
  readonly cursor: string;
}

/**
 * A row of the `Message` class, as written. `data` is the envelope's data as an embedded map
 * (data-codec.ts); `cid`, `cid12` and `stream` repeat `data.docker` (container output) so the
 * container filter has an index.
 */
export interface MessageRow {
  uid: string;
  eid: string;
  channel: string;
  brokerId: string;
  tk: string;
  ts: Date;
  service: string;
  instance: string | null;
  host: string | null;
  level: string | null;
  type: string;
  /** The message, or its first {@link MESSAGE_INDEXED_BYTES} bytes: what the full-text index holds. */
  message: string | null;
  /**
   * The rest of a longer message, stored beside it, unindexed. Not a declared property: a migration
   * adding one hung OrientDB 3.2.25 when four replicas bootstrapped a new database at once (the
   * schema test), and the class takes undeclared fields as it takes `data`.
   */
  messageMore: string | null;
  data: Record<string, unknown> | null;
  /** `data.docker.containerId`, when it is a container id (12-64 lowercase hex). */
  cid: string | null;
  /** Its first 12 characters: the key of the container-id index (ids are matched by prefix). */
  cid12: string | null;
  /** `data.docker.stream`, when it is `stdout` or `stderr`. */
  stream: string | null;
}

/** A container id, full or abbreviated (Docker shows 12 characters). */
export const CONTAINER_ID = /^[0-9a-f]{12,64}$/;
export const STREAMS = ['stdout', 'stderr'] as const;

/** The container fields of a record whose data carries `docker: { containerId, stream }`. */
export function containerFields(
  data: Record<string, unknown> | undefined,
): Pick<MessageRow, 'cid' | 'cid12' | 'stream'> {
  const docker = data?.docker;
  const { containerId, stream } =
    docker !== null && typeof docker === 'object'
      ? (docker as Record<string, unknown>)
      : ({} as Record<string, unknown>);
  const cid = typeof containerId === 'string' && CONTAINER_ID.test(containerId) ? containerId : null;
  return {
    cid,
    cid12: cid === null ? null : cid.slice(0, 12),
    stream: typeof stream === 'string' && (STREAMS as readonly string[]).includes(stream) ? stream : null,
  };
}

/** Channel names never contain `/`, so `<channel>/<envelope id>` is unique per channel. */
export function uidOf(channel: string, envelopeId: string): string {
  return `${channel}/${envelopeId}`;
}

/**
 * The sort key: `<ts as 24-char ISO>|<uid>`. Sorting it as a string sorts by (ts, uid), so one
 * index serves time ranges, newest-first order and the keyset cursor.
 */
export function sortKey(ts: Date, uid: string): string {
  return `${ts.toISOString()}|${uid}`;
}

/**
 * How far ahead of the archive's clock a timestamp may be: 5 minutes. A record further ahead (a
 * producer with a wrong clock, `9999-12-31`) would stay first in every newest-first page and never
 * reach retention's cutoff, so it is re-anchored: stored at the time of archiving, with the claimed
 * `ts` kept in `data.futureTs` (unless data already has that key).
 */
export const MAX_FUTURE_SKEW_MS = 5 * 60_000;

export function toRow(input: ArchiveInput, now: number = Date.now()): MessageRow {
  const { envelope, channel, brokerId } = input;
  const claimed = new Date(envelope.ts);
  const future = claimed.getTime() > now + MAX_FUTURE_SKEW_MS;
  const ts = future ? new Date(now) : claimed;
  const data =
    future && !(envelope.data && 'futureTs' in envelope.data)
      ? { ...envelope.data, futureTs: envelope.ts }
      : envelope.data;
  const uid = uidOf(channel, envelope.id);
  return {
    uid,
    eid: envelope.id,
    channel,
    brokerId,
    tk: sortKey(ts, uid),
    ts,
    service: envelope.source.service,
    instance: envelope.source.instance ?? null,
    host: envelope.source.host ?? null,
    level: envelope.level ?? null,
    type: envelope.type,
    ...splitMessage(envelope.message),
    data: data === undefined ? null : encodeData(data),
    ...containerFields(data),
  };
}

/**
 * The most UTF-8 bytes of a message the full-text index takes. OrientDB's Lucene index keeps the
 * whole value as one term besides its words, and Lucene refuses a term over 32 766 bytes: the
 * record would fail to save. A longer message is stored in two fields, its rest unindexed.
 */
export const MESSAGE_INDEXED_BYTES = 32_000;

const utf8 = new TextEncoder();

/** `message` cut where its UTF-8 form reaches {@link MESSAGE_INDEXED_BYTES}, never inside a character. */
export function splitMessage(message: string | undefined): Pick<MessageRow, 'message' | 'messageMore'> {
  if (message === undefined) {
    return { message: null, messageMore: null };
  }
  // a UTF-16 unit is at most 3 UTF-8 bytes: most messages need no encoding to know they fit
  if (message.length * 3 <= MESSAGE_INDEXED_BYTES) {
    return { message, messageMore: null };
  }
  const { read } = utf8.encodeInto(message, new Uint8Array(MESSAGE_INDEXED_BYTES));
  return read === message.length
    ? { message, messageMore: null }
    : { message: message.slice(0, read), messageMore: message.slice(read) };
}

/** A stored row back into the API's shape (absent fields left out, `data` decoded). */
export function fromRow(row: Record<string, unknown>): ArchivedMessage {
  const text = (key: string): string | undefined => (typeof row[key] === 'string' ? row[key] : undefined);
  const tk = text('tk') ?? '';
  const message = text('message');
  const ts = row.ts instanceof Date ? row.ts.toISOString() : tk.slice(0, 24);
  const record: Record<string, unknown> = {
    id: text('eid'),
    channel: text('channel'),
    brokerId: text('brokerId'),
    ts,
    type: text('type'),
    service: text('service'),
    instance: text('instance'),
    host: text('host'),
    level: text('level'),
    // a long message is stored in two fields (splitMessage)
    message: message === undefined ? undefined : message + (text('messageMore') ?? ''),
    data: decodeData(row.data),
    cursor: encodeCursor(tk),
  };
  for (const key of Object.keys(record)) {
    if (record[key] === undefined) {
      delete record[key];
    }
  }
  return record as unknown as ArchivedMessage;
}

/** Cursors are opaque to clients: base64url of the sort key. */
export function encodeCursor(tk: string): string {
  return Buffer.from(tk, 'utf8').toString('base64url');
}

/** The sort key inside a cursor, or undefined when the cursor is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  const tk = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|[a-z0-9][a-z0-9._-]*\/.+$/.test(tk) ? tk : undefined;
}

/** The per-minute bucket of a timestamp: `YYYY-MM-DDTHH:MM`. */
export function minuteOf(ts: Date): string {
  return ts.toISOString().slice(0, 16);
}
