import { randomBytes } from 'node:crypto';
import { archivePerFile, input, rawQuery } from './helpers';

const { archive, database } = archivePerFile(__filename);

describe('archive writer', () => {
  it('stores a batch with every field mapped, and reads it back whole', async () => {
    const batch = Array.from({ length: 50 }, (_, i) => input(i));
    const result = await archive().write(batch);
    expect(result).toEqual({ stored: 50, duplicates: 0, rejected: [] });
    const sample = batch[7]!;
    const record = await archive().findById('logs', sample.envelope.id);
    const { envelope } = sample;
    expect(record).toEqual({
      id: envelope.id,
      channel: 'logs',
      brokerId: sample.brokerId,
      ts: envelope.ts,
      type: envelope.type,
      service: envelope.source.service,
      instance: envelope.source.instance,
      host: envelope.source.host,
      level: envelope.level,
      message: envelope.message,
      data: envelope.data,
      cursor: expect.any(String),
    });
  });

  it('leaves optional fields out when the envelope has none', async () => {
    const bare = input(1, { level: undefined, message: undefined, data: undefined, source: { service: 'bare' } });
    await archive().write([bare]);
    const record = await archive().findById('logs', bare.envelope.id);
    expect(record).not.toBeNull();
    expect(Object.keys(record!).sort()).toEqual(['brokerId', 'channel', 'cursor', 'id', 'service', 'ts', 'type']);
  });

  it('stores a redelivered message once, in a batch with new ones and twice in one batch', async () => {
    const first = Array.from({ length: 20 }, (_, i) => input(100 + i));
    expect((await archive().write(first)).stored).toBe(20);
    const fresh = Array.from({ length: 10 }, (_, i) => input(200 + i));
    const again = await archive().write([...first.slice(5, 15), ...fresh, fresh[0]!]);
    expect(again).toEqual({ stored: 10, duplicates: 11, rejected: [] });
    for (const item of [...first, ...fresh]) {
      const page = await archive().search({
        channel: 'logs',
        service: item.envelope.source.service,
        text: item.envelope.message,
      });
      expect(page.records.filter((r) => r.id === item.envelope.id)).toHaveLength(1);
    }
  });

  it('keeps the same envelope id on two channels as two records', async () => {
    const a = input(300);
    const b = { ...a, channel: 'events', envelope: { ...a.envelope, channel: 'events' } };
    expect(await archive().write([a, b])).toEqual({ stored: 2, duplicates: 0, rejected: [] });
    expect(await archive().findById('events', a.envelope.id)).toMatchObject({ channel: 'events' });
    expect(await archive().findById('logs', a.envelope.id)).toMatchObject({ channel: 'logs' });
  });

  it('holds out records the schema would refuse, naming the field and rule; stores the rest', async () => {
    const batch = Array.from({ length: 40 }, (_, i) => input(400 + i));
    batch[3] = input(403, { ts: '1969-12-31T23:59:59.000Z' });
    batch[31] = input(431, { message: 'x'.repeat(70_000) });
    const result = await archive().write(batch);
    expect(result.stored).toBe(38);
    expect(result.rejected.map((r) => r.input.envelope.id)).toEqual([batch[3].envelope.id, batch[31].envelope.id]);
    expect(result.rejected[0]!.reason).toMatch(/^ts: .*\[min\]$/);
    expect(result.rejected[1]!.reason).toMatch(/^message: 70000 characters.*\[max\]$/);
    expect(await archive().findById('logs', batch[3].envelope.id)).toBeNull();
    for (const i of [0, 4, 30, 39]) {
      expect(await archive().findById('logs', batch[i]!.envelope.id)).not.toBeNull();
    }
  });

  it('stores messages up to the limit whatever their size in bytes, past the 32 KB Lucene takes as one term', async () => {
    // OrientDB's Lucene index also keeps the whole message as one term, and Lucene refuses a term over
    // 32 766 UTF-8 bytes: such a record failed as "Error on saving record", which the archiver took
    // for an outage and retried forever, holding up every message behind it
    const hex = `erste ${randomBytes(32_000).toString('hex')}`.slice(0, 60_000);
    const umlauts = `zweite ${'ü'.repeat(30_000)} ende`;
    const emoji = `dritte ${'🎉'.repeat(16_000)}`;
    const batch = [
      input(970, { message: hex }),
      input(971, { message: umlauts }),
      input(972, { message: emoji }),
      input(973),
    ];
    expect(await archive().write(batch)).toEqual({ stored: 4, duplicates: 0, rejected: [] });
    for (const each of batch) {
      expect((await archive().findById('logs', each.envelope.id))?.message).toBe(each.envelope.message);
    }
    for (const [word, i] of [
      ['erste', 0],
      ['zweite', 1],
      ['dritte', 2],
    ] as const) {
      const page = await archive().search({ text: word, from: batch[0]!.envelope.ts, limit: 10 });
      expect(page.records.map((r) => [r.id, r.message])).toEqual([[batch[i]!.envelope.id, batch[i]!.envelope.message]]);
    }
  });

  it('when OrientDB itself refuses a record, stores the others and reports its reason', async () => {
    // a rule the writer does not know of, added to this file's database only
    await rawQuery(database, `ALTER PROPERTY Message.host REGEXP "[a-z0-9.-]+"`);
    try {
      const batch = Array.from({ length: 12 }, (_, i) => input(450 + i));
      batch[5] = input(455, { source: { service: 'api', host: 'Bad Host!' } });
      const result = await archive().write(batch);
      expect(result.stored).toBe(11);
      expect(result.rejected).toHaveLength(1);
      expect(result.rejected[0]!.input.envelope.id).toBe(batch[5].envelope.id);
      expect(result.rejected[0]!.reason).toMatch(/Message\.host/);
      const page = await archive().search({ from: batch[0]!.envelope.ts, to: '2026-11-20T12:08:00.000Z', limit: 50 });
      expect(page.records.map((r) => r.id).sort()).toEqual(
        batch
          .filter((_, i) => i !== 5)
          .map((b) => b.envelope.id)
          .sort(),
      );
    } finally {
      await rawQuery(database, 'ALTER PROPERTY Message.host REGEXP null');
    }
  });

  it('stores SQL and Lucene syntax, quotes and record-id look-alikes verbatim', async () => {
    const nasty = [
      "x'; DELETE FROM Message; --",
      '" OR 1=1 --',
      '#12:0',
      '[#1:1, #2:2]',
      '{"@class":"OUser","name":"admin"}',
      'a\\"b\\\\c',
      'ünïcødé ✓ 🚀',
      ':param $parent @rid',
    ];
    const batch = nasty.map((text, i) =>
      input(500 + i, {
        message: text,
        type: text.slice(0, 100),
        source: { service: text.slice(0, 100) },
        data: { text, '@rid': text },
      }),
    );
    expect((await archive().write(batch)).stored).toBe(nasty.length);
    for (const item of batch) {
      const record = await archive().findById('logs', item.envelope.id);
      expect(record).toMatchObject({
        message: item.envelope.message,
        type: item.envelope.type,
        service: item.envelope.source.service,
        data: item.envelope.data,
      });
    }
  });

  it('a timestamp from the future (a wrong clock) is re-anchored to the time of archiving, the claimed one kept in data', async () => {
    const future = input(1, { ts: '9999-12-31T23:59:59.999Z', data: { i: 1 } });
    const present = input(2, { ts: new Date().toISOString() });
    const before = Date.now();
    await archive().write([future, present]);
    const after = Date.now();
    const record = await archive().findById('logs', future.envelope.id);
    expect(Date.parse(record!.ts)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(record!.ts)).toBeLessThanOrEqual(after);
    expect(record!.data).toEqual({ i: 1, futureTs: '9999-12-31T23:59:59.999Z' });
    // a clock a little ahead (within MAX_FUTURE_SKEW_MS) is left as it is
    const nearly = input(3, { ts: new Date(Date.now() + 60_000).toISOString() });
    await archive().write([nearly]);
    expect((await archive().findById('logs', nearly.envelope.id))!.ts).toBe(nearly.envelope.ts);
    // retention reaches it like any other record
    await archive().deleteOlderThan(new Date(Date.now() + 3_600_000));
    expect(await archive().findById('logs', future.envelope.id)).toBeNull();
  });
});
