// The live view's memory: a buffer of entries bounded by count and by bytes (oldest evicted
// first), de-duplicated by channel + envelope id, and a filtered view over it that grows by appends
// instead of re-scans. Large entries are kept cut; the page loads the full record when one is opened.
import type { ArchivedMessage, LiveEntry } from '../api-types';

/** An entry whose message and data exceed this many characters is kept cut. */
export const ENTRY_CHARS_KEPT = 4096;
/** How much of a cut entry's message is kept, in characters. */
const CUT_MESSAGE_CHARS = 1024;
/** Default byte budget of a buffer: 64 MiB of entries (two bytes per character, as JS strings hold them). */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
// type, ids, source, ts and the object around them, in characters
const ENTRY_OVERHEAD_CHARS = 256;

/** An entry as kept in memory: its estimated size and, if it was cut, how many characters it had. */
export interface KeptEntry extends LiveEntry {
  readonly bytes: number;
  /** Set when message and data were over ENTRY_CHARS_KEPT: their size; the data is left out. */
  readonly cut?: number;
}

/**
 * The entry as the live view keeps it: small ones whole; a large one (a 60 KB stack trace, a big
 * `data`) with the first CUT_MESSAGE_CHARS of its message and without data. Idempotent.
 */
export function keep(entry: LiveEntry | KeptEntry): KeptEntry {
  if ('bytes' in entry) {
    return entry;
  }
  const { envelope } = entry;
  const chars = (envelope.message?.length ?? 0) + (envelope.data ? JSON.stringify(envelope.data).length : 0);
  if (chars <= ENTRY_CHARS_KEPT) {
    return { ...entry, bytes: (chars + ENTRY_OVERHEAD_CHARS) * 2 };
  }
  const message = (envelope.message ?? '').slice(0, CUT_MESSAGE_CHARS);
  const shortened = { ...envelope, message: `${message}…` };
  delete shortened.data;
  return {
    channel: entry.channel,
    id: entry.id,
    envelope: shortened,
    bytes: (message.length + 1 + ENTRY_OVERHEAD_CHARS) * 2,
    cut: chars,
  };
}

/** An entry as buffered: `seq` orders the buffer (prepended history gets negative ones). */
export interface BufferedEntry extends KeptEntry {
  readonly seq: number;
  readonly key: string;
  /** Lower-cased text the free-text filter searches, built on first use. */
  haystack?: string;
}

export interface LiveFilter {
  service: string;
  level: string;
  type: string;
  text: string;
}

export const EMPTY_FILTER: LiveFilter = { service: '', level: '', type: '', text: '' };

export function keyOf(entry: LiveEntry): string {
  return `${entry.channel}/${entry.envelope.id}`;
}

/** The live entry of an archive record (so history and live lines look the same). */
export function entryOfRecord(record: ArchivedMessage): LiveEntry {
  return {
    channel: record.channel,
    id: record.brokerId,
    envelope: {
      id: record.id,
      channel: record.channel,
      type: record.type,
      ts: record.ts,
      source: {
        service: record.service,
        ...(record.instance ? { instance: record.instance } : {}),
        ...(record.host ? { host: record.host } : {}),
      },
      ...(record.level ? { level: record.level } : {}),
      ...(record.message !== undefined ? { message: record.message } : {}),
      ...(record.data ? { data: record.data } : {}),
      v: 1,
    },
  };
}

export function matches(entry: BufferedEntry, filter: LiveFilter): boolean {
  const { envelope } = entry;
  if (filter.service && envelope.source.service !== filter.service) {
    return false;
  }
  if (filter.level && envelope.level !== filter.level) {
    return false;
  }
  if (filter.type && !envelope.type.toLowerCase().includes(filter.type.toLowerCase())) {
    return false;
  }
  if (filter.text) {
    entry.haystack ??= [
      envelope.message ?? '',
      envelope.type,
      envelope.source.service,
      entry.channel,
      envelope.data ? JSON.stringify(envelope.data) : '',
    ]
      .join(' ')
      .toLowerCase();
    return entry.haystack.includes(filter.text.toLowerCase());
  }
  return true;
}

/** A window over an array that drops from the front in O(1) and compacts now and then. */
class Deque<T> {
  items: T[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  at(index: number): T | undefined {
    return this.items[this.head + index];
  }

  first(): T | undefined {
    return this.items[this.head];
  }

  last(): T | undefined {
    return this.items[this.items.length - 1];
  }

  shift(): T | undefined {
    const item = this.items[this.head];
    this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  replace(items: T[]): void {
    this.items = items;
    this.head = 0;
  }

  toArray(): T[] {
    return this.items.slice(this.head);
  }
}

/** The bounded, de-duplicated buffer and its filtered view. */
export class LiveBuffer {
  private readonly all = new Deque<BufferedEntry>();
  private readonly view = new Deque<BufferedEntry>();
  private readonly keys = new Set<string>();
  private nextSeq = 0;
  private firstSeq = 0;
  private filter: LiveFilter = EMPTY_FILTER;
  private held = 0;
  /** Services seen, for the filter's choices. */
  readonly services = new Set<string>();

  constructor(
    readonly capacity: number,
    readonly maxBytes: number = DEFAULT_MAX_BYTES,
  ) {}

  /** Entries buffered. */
  get size(): number {
    return this.all.length;
  }

  /** Their estimated size. */
  get bytes(): number {
    return this.held;
  }

  private full(length: number): boolean {
    return length > this.capacity || (this.held > this.maxBytes && length > 1);
  }

  /** Entries that pass the filter. */
  get visible(): number {
    return this.view.length;
  }

  /** The i-th entry passing the filter, oldest first. */
  row(index: number): BufferedEntry | undefined {
    return this.view.at(index);
  }

  oldest(): BufferedEntry | undefined {
    return this.all.first();
  }

  /** Adds new entries at the end; evicts the oldest beyond capacity or bytes. Returns how many were added. */
  append(entries: ReadonlyArray<LiveEntry | KeptEntry>): number {
    let added = 0;
    for (const entry of entries) {
      const key = keyOf(entry);
      if (this.keys.has(key)) {
        continue;
      }
      const buffered: BufferedEntry = { ...keep(entry), seq: this.nextSeq++, key };
      this.held += buffered.bytes;
      this.keys.add(key);
      this.services.add(entry.envelope.source.service);
      this.all.items.push(buffered);
      if (matches(buffered, this.filter)) {
        this.view.items.push(buffered);
      }
      added++;
    }
    while (this.full(this.all.length)) {
      const evicted = this.all.shift();
      if (evicted) {
        this.keys.delete(evicted.key);
        this.held -= evicted.bytes;
      }
    }
    const oldestSeq = this.all.first()?.seq ?? this.nextSeq;
    while (this.view.length > 0 && (this.view.first()?.seq ?? 0) < oldestSeq) {
      this.view.shift();
    }
    return added;
  }

  /**
   * Adds older entries (oldest first) before the first one. When that overflows the capacity the
   * newest are dropped: the user is reading history, and following resumes with fresh entries.
   * Returns how many were added.
   */
  prepend(entries: ReadonlyArray<LiveEntry | KeptEntry>): number {
    const fresh: BufferedEntry[] = [];
    for (let index = entries.length - 1; index >= 0; index--) {
      const entry = entries[index] as LiveEntry;
      const key = keyOf(entry);
      if (this.keys.has(key)) {
        continue;
      }
      this.keys.add(key);
      this.services.add(entry.envelope.source.service);
      const buffered: BufferedEntry = { ...keep(entry), seq: --this.firstSeq, key };
      this.held += buffered.bytes;
      fresh.push(buffered);
    }
    fresh.reverse();
    const merged = fresh.concat(this.all.toArray());
    while (this.full(merged.length)) {
      const dropped = merged.pop();
      if (dropped) {
        this.keys.delete(dropped.key);
        this.held -= dropped.bytes;
      }
    }
    this.all.replace(merged);
    this.refilter();
    return fresh.length;
  }

  setFilter(filter: LiveFilter): void {
    this.filter = filter;
    this.refilter();
  }

  clear(): void {
    this.all.replace([]);
    this.view.replace([]);
    this.keys.clear();
    this.held = 0;
  }

  private refilter(): void {
    this.view.replace(this.all.toArray().filter((entry) => matches(entry, this.filter)));
  }
}
