import { NAME_PATTERN } from '@mupets/broker';
/** A live stream's position: each channel's last delivered id (`0`: from the start). */
export type LiveCursor = Map<string, string>;

const ID_RE = /^(0|\d{1,20}-\d{1,20})$/;

/** `logs=1-0;events=2-3` → a cursor; undefined when malformed. */
export function parseCursor(text: string): LiveCursor | undefined {
  if (text.length > 4096) {
    return undefined;
  }
  const cursor: LiveCursor = new Map();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const channel = part.slice(0, eq);
    const id = part.slice(eq + 1);
    if (eq <= 0 || !NAME_PATTERN.test(channel) || !ID_RE.test(id) || cursor.has(channel)) {
      return undefined;
    }
    cursor.set(channel, id);
  }
  return cursor;
}

/** A cursor as the SSE `id:` field. */
export function formatCursor(cursor: LiveCursor): string {
  return [...cursor].map(([channel, id]) => `${channel}=${id}`).join(';');
}
