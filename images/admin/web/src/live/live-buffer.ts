// The live view's memory: a bounded buffer of entries (oldest evicted first), de-duplicated by
// channel + envelope id, and a filtered view over it that grows by appends instead of re-scans.
import type { ArchivedMessage, LiveEntry } from '../api-types';

/** An entry as buffered: `seq` orders the buffer (prepended history gets negative ones). */
export interface BufferedEntry extends LiveEntry {
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
  /** Services seen, for the filter's choices. */
  readonly services = new Set<string>();

  constructor(readonly capacity: number) {}

  /** Entries buffered. */
  get size(): number {
    return this.all.length;
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

  /** Adds new entries at the end; evicts the oldest beyond capacity. Returns how many were added. */
  append(entries: readonly LiveEntry[]): number {
    let added = 0;
    for (const entry of entries) {
      const key = keyOf(entry);
      if (this.keys.has(key)) {
        continue;
      }
      const buffered: BufferedEntry = { ...entry, seq: this.nextSeq++, key };
      this.keys.add(key);
      this.services.add(entry.envelope.source.service);
      this.all.items.push(buffered);
      if (matches(buffered, this.filter)) {
        this.view.items.push(buffered);
      }
      added++;
    }
    while (this.all.length > this.capacity) {
      const evicted = this.all.shift();
      if (evicted) {
        this.keys.delete(evicted.key);
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
  prepend(entries: readonly LiveEntry[]): number {
    const fresh: BufferedEntry[] = [];
    for (let index = entries.length - 1; index >= 0; index--) {
      const entry = entries[index] as LiveEntry;
      const key = keyOf(entry);
      if (this.keys.has(key)) {
        continue;
      }
      this.keys.add(key);
      this.services.add(entry.envelope.source.service);
      fresh.push({ ...entry, seq: --this.firstSeq, key });
    }
    fresh.reverse();
    const merged = fresh.concat(this.all.toArray());
    while (merged.length > this.capacity) {
      const dropped = merged.pop();
      if (dropped) {
        this.keys.delete(dropped.key);
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
  }

  private refilter(): void {
    this.view.replace(this.all.toArray().filter((entry) => matches(entry, this.filter)));
  }
}
