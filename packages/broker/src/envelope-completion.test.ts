import { completeEnvelope, ENTRY_ID_NAMESPACE, entryEnvelopeId, type EntryPosition } from './envelope-completion';
import { EnvelopeValidationError, type EnvelopeIssue } from './errors';
import { parseRecord } from './kafka/records';
import { ENVELOPE_FIELD, parseEntry } from './redis/entry';

const position: EntryPosition = {
  stream: 'mupets:events',
  channel: 'events',
  brokerId: '1700000000000-0',
  timeMs: 1_700_000_000_000,
};

function issuesOf(fn: () => unknown): EnvelopeIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeValidationError);
    return [...(error as EnvelopeValidationError).issues];
  }
  throw new Error('expected an EnvelopeValidationError');
}

describe('entryEnvelopeId', () => {
  test('is the UUID v5 of <stream>/<broker id>, as Python computes it', () => {
    // python3 -c 'import uuid; print(uuid.uuid5(uuid.UUID("c6739eb7-…"), "mupets:events/1700000000000-0"))'
    expect(ENTRY_ID_NAMESPACE).toBe('c6739eb7-6483-4934-8b0b-2331cc24fa44');
    expect(entryEnvelopeId('mupets:events', '1700000000000-0')).toBe('de6d7991-ba5b-57ca-8367-652583e68b39');
    expect(entryEnvelopeId('mupets.events', '0-41')).toBe('d0902bec-7e6c-5f61-8943-8b7990c9e137');
  });

  test('differs by stream and by broker id', () => {
    const ids = new Set([
      entryEnvelopeId('mupets:events', '1-0'),
      entryEnvelopeId('mupets:events', '1-1'),
      entryEnvelopeId('mupets:logs', '1-0'),
      entryEnvelopeId('other:events', '1-0'),
    ]);
    expect(ids.size).toBe(4);
  });
});

describe('completeEnvelope', () => {
  test('completes a minimal envelope from the entry position', () => {
    const envelope = completeEnvelope({ type: 'order.created', source: { service: 'py-shop' } }, position);
    expect(envelope).toEqual({
      id: 'de6d7991-ba5b-57ca-8367-652583e68b39',
      channel: 'events',
      type: 'order.created',
      ts: '2023-11-14T22:13:20.000Z',
      source: { service: 'py-shop' },
      v: 1,
    });
  });

  test('the same entry read twice gets the same id', () => {
    const minimal = { type: 't', source: { service: 's' } };
    expect(completeEnvelope(minimal, position).id).toBe(completeEnvelope({ ...minimal }, position).id);
    expect(completeEnvelope(minimal, { ...position, brokerId: '1700000000000-1' }).id).not.toBe(
      completeEnvelope(minimal, position).id,
    );
  });

  test('keeps the optional fields, and every field that is present', () => {
    const given = {
      id: 'own-id',
      ts: '2020-01-01T00:00:00.000Z',
      type: 't',
      source: { service: 's', instance: 'i', host: 'h' },
      level: 'warn',
      message: 'm',
      data: { order: 1 },
    };
    expect(completeEnvelope(given, position)).toEqual({ ...given, channel: 'events', v: 1 });
    const complete = { ...given, channel: 'elsewhere', v: 1 };
    expect(completeEnvelope(complete, position)).toEqual(complete);
  });

  test('anything else invalid is rejected, naming the field and the rule', () => {
    expect(issuesOf(() => completeEnvelope({ type: 't' }, position))).toEqual([
      expect.objectContaining({ path: 'source', rule: 'required' }),
    ]);
    expect(issuesOf(() => completeEnvelope({ type: 't', source: {} }, position))).toEqual([
      expect.objectContaining({ path: 'source.service', rule: 'required' }),
    ]);
    expect(issuesOf(() => completeEnvelope({ source: { service: 's' } }, position))).toEqual([
      expect.objectContaining({ path: 'type', rule: 'required' }),
    ]);
    const minimal = { type: 't', source: { service: 's' } };
    expect(issuesOf(() => completeEnvelope({ ...minimal, v: 2 }, position))).toEqual([
      expect.objectContaining({ path: 'v' }),
    ]);
    expect(issuesOf(() => completeEnvelope({ ...minimal, ts: 'yesterday' }, position))).toEqual([
      expect.objectContaining({ path: 'ts', rule: 'format' }),
    ]);
    expect(issuesOf(() => completeEnvelope({ ...minimal, id: null }, position))).toEqual([
      expect.objectContaining({ path: 'id', rule: 'type' }),
    ]);
    expect(issuesOf(() => completeEnvelope({ ...minimal, level: 'loud' }, position))).toEqual([
      expect.objectContaining({ path: 'level', rule: 'enum' }),
    ]);
    expect(issuesOf(() => completeEnvelope({ ...minimal, order: 1 }, position))).toEqual([
      expect.objectContaining({ rule: 'unknown_key', message: expect.stringContaining('order') }),
    ]);
    expect(issuesOf(() => completeEnvelope([minimal], position))).toEqual([expect.objectContaining({ path: '' })]);
    expect(issuesOf(() => completeEnvelope('text', position))).toEqual([expect.objectContaining({ path: '' })]);
  });

  test('an entry without a usable time cannot complete ts', () => {
    const minimal = { type: 't', source: { service: 's' } };
    expect(issuesOf(() => completeEnvelope(minimal, { ...position, timeMs: -1 }))).toEqual([
      expect.objectContaining({ path: 'ts', rule: 'required' }),
    ]);
  });
});

describe('both backends complete with their own position', () => {
  const json = JSON.stringify({ type: 't', source: { service: 's' } });

  test('a Redis entry: the stream key, and the id milliseconds as ts', () => {
    const parsed = parseEntry(['1700000000000-3', [ENVELOPE_FIELD, json]], { key: 'p:events', channel: 'events' });
    expect(parsed).toEqual({
      ok: true,
      id: '1700000000000-3',
      envelope: expect.objectContaining({
        id: entryEnvelopeId('p:events', '1700000000000-3'),
        channel: 'events',
        ts: '2023-11-14T22:13:20.000Z',
        v: 1,
      }),
    });
  });

  test('a Kafka record: the topic and <partition>-<offset>, and the record timestamp as ts', () => {
    const record = { partition: 2, offset: 41n, timestamp: 1_600_000_000_123, value: Buffer.from(json) };
    const parsed = parseRecord(record, { topic: 'p.events', channel: 'events' });
    expect(parsed).toEqual({
      ok: true,
      envelope: expect.objectContaining({
        id: entryEnvelopeId('p.events', '2-41'),
        channel: 'events',
        ts: '2020-09-13T12:26:40.123Z',
        v: 1,
      }),
    });
  });

  test('an invalid entry is reported with the field, on both', () => {
    const bad = JSON.stringify({ type: 't' });
    const entry = parseEntry(['1-0', [ENVELOPE_FIELD, bad]], { key: 'p:events', channel: 'events' });
    const record = parseRecord(
      { partition: 0, offset: 0n, timestamp: 1, value: Buffer.from(bad) },
      { topic: 'p.events', channel: 'events' },
    );
    for (const parsed of [entry, record]) {
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && parsed.error.message).toMatch(/source: .*\[required\]/);
    }
  });
});
