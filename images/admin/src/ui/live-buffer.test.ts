// The live view's buffer (web/src/live/live-buffer.ts): plain logic, tested without a browser.
import type { LiveEntry } from '../../web/src/api-types';
import { EMPTY_FILTER, ENTRY_CHARS_KEPT, keep, LiveBuffer } from '../../web/src/live/live-buffer';

function entry(n: number, overrides: { channel?: string; service?: string; level?: 'info' | 'error' } = {}): LiveEntry {
  const channel = overrides.channel ?? 'logs';
  return {
    channel,
    id: `${1000 + n}-0`,
    envelope: {
      id: `e${n}`,
      channel,
      type: 'test.line',
      ts: new Date(1_700_000_000_000 + n).toISOString(),
      source: { service: overrides.service ?? 'svc' },
      level: overrides.level ?? 'info',
      message: `line ${n}`,
      v: 1,
    },
  };
}

function rows(buffer: LiveBuffer): string[] {
  return Array.from({ length: buffer.visible }, (_, i) => buffer.row(i)?.envelope.id ?? '?');
}

test('keeps at most its capacity, evicting the oldest first', () => {
  const buffer = new LiveBuffer(3);
  buffer.append([entry(1), entry(2)]);
  buffer.append([entry(3), entry(4), entry(5)]);
  expect(buffer.size).toBe(3);
  expect(rows(buffer)).toEqual(['e3', 'e4', 'e5']);
  expect(buffer.oldest()?.envelope.id).toBe('e3');
});

test('drops a second copy of an entry (same channel and envelope id), but not the same id on another channel', () => {
  const buffer = new LiveBuffer(10);
  expect(buffer.append([entry(1), entry(2)])).toBe(2);
  expect(buffer.append([entry(2), entry(3)])).toBe(1);
  expect(buffer.append([entry(2, { channel: 'events' })])).toBe(1);
  expect(rows(buffer)).toEqual(['e1', 'e2', 'e3', 'e2']);
});

test('an evicted entry may come back (it is no longer a duplicate)', () => {
  const buffer = new LiveBuffer(2);
  buffer.append([entry(1), entry(2), entry(3)]);
  expect(buffer.prepend([entry(1)])).toBe(1);
  expect(rows(buffer)).toEqual(['e1', 'e2']);
});

test('the filter view follows appends and evictions, and a new filter re-scans', () => {
  const buffer = new LiveBuffer(4);
  buffer.setFilter({ ...EMPTY_FILTER, level: 'error' });
  buffer.append([entry(1, { level: 'error' }), entry(2), entry(3, { level: 'error' }), entry(4)]);
  expect(rows(buffer)).toEqual(['e1', 'e3']);
  buffer.append([entry(5), entry(6, { level: 'error' })]);
  // e1 and e2 evicted: the view loses e1 too
  expect(rows(buffer)).toEqual(['e3', 'e6']);
  buffer.setFilter({ ...EMPTY_FILTER, text: 'LINE 5' });
  expect(rows(buffer)).toEqual(['e5']);
  buffer.setFilter(EMPTY_FILTER);
  expect(buffer.visible).toBe(4);
});

test('older entries go in front, without duplicates; overflow drops the newest', () => {
  const buffer = new LiveBuffer(5);
  buffer.append([entry(10), entry(11), entry(12)]);
  expect(buffer.prepend([entry(8), entry(9), entry(10)])).toBe(2);
  expect(rows(buffer)).toEqual(['e8', 'e9', 'e10', 'e11', 'e12']);
  buffer.prepend([entry(7)]);
  expect(rows(buffer)).toEqual(['e7', 'e8', 'e9', 'e10', 'e11']);
  // e12 was dropped, so it is new again when it arrives
  expect(buffer.append([entry(12)])).toBe(1);
});

test('clear empties the buffer and forgets what it held', () => {
  const buffer = new LiveBuffer(5);
  buffer.append([entry(1), entry(2)]);
  buffer.clear();
  expect(buffer.size).toBe(0);
  expect(buffer.append([entry(1)])).toBe(1);
});

test('a 120k stream through a 50k buffer keeps the newest 50k, in order', () => {
  const buffer = new LiveBuffer(50_000);
  for (let start = 0; start < 120_000; start += 500) {
    buffer.append(Array.from({ length: 500 }, (_, i) => entry(start + i)));
  }
  expect(buffer.size).toBe(50_000);
  expect(buffer.oldest()?.envelope.id).toBe('e70000');
  expect(buffer.row(buffer.visible - 1)?.envelope.id).toBe('e119999');
});

function big(n: number, chars: number, withData = false): LiveEntry {
  const base = entry(n);
  return {
    ...base,
    envelope: {
      ...base.envelope,
      message: 'm'.repeat(chars),
      ...(withData ? { data: { blob: 'd'.repeat(chars) } } : {}),
    },
  };
}

test('a large entry is kept cut: message shortened, data left out, its full size noted; a small one whole', () => {
  const small = keep(entry(1));
  expect(small.cut).toBeUndefined();
  expect(small.envelope).toEqual(entry(1).envelope);

  const large = keep(big(2, 100_000, true));
  expect(large.cut).toBeGreaterThan(200_000);
  expect(large.envelope.data).toBeUndefined();
  expect(large.envelope.message!.length).toBeLessThan(ENTRY_CHARS_KEPT);
  expect(large.envelope.message!.endsWith('…')).toBe(true);
  expect(large.bytes).toBeLessThan(ENTRY_CHARS_KEPT * 2);
  expect(keep(large)).toBe(large);
});

test('a buffer holds a bounded number of bytes, whatever the entries weigh: the oldest go first', () => {
  // entries just under the cut size: each about 8 KiB kept
  const buffer = new LiveBuffer(50_000, 1024 * 1024);
  buffer.append(Array.from({ length: 1000 }, (_, i) => big(i, ENTRY_CHARS_KEPT - 10)));
  expect(buffer.bytes).toBeLessThanOrEqual(1024 * 1024);
  expect(buffer.size).toBeGreaterThan(100);
  expect(buffer.size).toBeLessThan(1000);
  expect(rows(buffer).at(-1)).toBe('e999');
  expect(buffer.oldest()?.envelope.id).toBe(`e${1000 - buffer.size}`);

  // 3000 entries of 100 KB each (600 MB as JS strings) through a 64 MiB buffer: kept cut, all of them fit
  const roomy = new LiveBuffer(50_000);
  for (let i = 0; i < 3; i++) {
    roomy.append(Array.from({ length: 1000 }, (_, j) => big(i * 1000 + j, 100_000)));
  }
  expect(roomy.size).toBe(3000);
  expect(roomy.bytes).toBeLessThan(64 * 1024 * 1024);

  buffer.clear();
  expect(buffer.bytes).toBe(0);
});

test('history put in front respects the byte bound too, dropping the newest', () => {
  const buffer = new LiveBuffer(50_000, 200 * 1024);
  buffer.append([big(100, 100), big(101, 100)]);
  buffer.prepend(Array.from({ length: 100 }, (_, i) => big(i, ENTRY_CHARS_KEPT - 10)));
  expect(buffer.bytes).toBeLessThanOrEqual(200 * 1024);
  expect(buffer.oldest()?.envelope.id).toBe('e0');
  expect(rows(buffer)).not.toContain('e101');
});
