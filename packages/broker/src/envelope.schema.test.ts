import {
  buildEnvelope,
  DEFAULT_MAX_MESSAGE_BYTES,
  fastEnvelope,
  fastStoredEnvelope,
  schemaValidate,
  nestsDeeperThan,
  schemaEnvelope,
  serializeEnvelope,
  validateEnvelope,
} from './envelope.schema';
import { EnvelopeValidationError, type EnvelopeIssue } from './errors';

function issuesOf(fn: () => unknown): EnvelopeIssue[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeValidationError);
    return [...(error as EnvelopeValidationError).issues];
  }
  throw new Error('expected an EnvelopeValidationError');
}

describe('buildEnvelope', () => {
  test('fills id, ts, channel and v; keeps what was given', () => {
    const before = Date.now();
    const envelope = buildEnvelope('events', { type: 'a.b', source: { service: 's' }, data: { x: 1 } });
    expect(envelope).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-/),
      channel: 'events',
      type: 'a.b',
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      source: { service: 's' },
      data: { x: 1 },
      v: 1,
    });
    expect(Date.parse(envelope.ts)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(envelope.ts)).toBeLessThanOrEqual(Date.now());
    const given = buildEnvelope('events', {
      id: 'my-id',
      ts: '2020-01-01T00:00:00Z',
      type: 't',
      source: { service: 's' },
    });
    expect(given).toMatchObject({ id: 'my-id', ts: '2020-01-01T00:00:00Z' });
  });

  test('unknown top-level fields are preserved inside data', () => {
    const envelope = buildEnvelope('events', { type: 't', source: { service: 's' }, user: 7, tags: ['a'] });
    expect(envelope.data).toEqual({ user: 7, tags: ['a'] });
    const merged = buildEnvelope('events', { type: 't', source: { service: 's' }, data: { a: 1 }, b: 2 });
    expect(merged.data).toEqual({ a: 1, b: 2 });
  });

  test('an unknown field that clashes with a data key is an error naming it, not a silent overwrite', () => {
    const issues = issuesOf(() =>
      buildEnvelope('events', { type: 't', source: { service: 's' }, data: { a: 1 }, a: 2 }),
    );
    expect(issues).toEqual([expect.objectContaining({ path: 'a', rule: 'unknown_key' })]);
  });

  test('a missing field is named with the rule "required"', () => {
    const issues = issuesOf(() => buildEnvelope('events', { source: { service: 's' } }));
    expect(issues).toEqual([expect.objectContaining({ path: 'type', rule: 'required' })]);
    const nested = issuesOf(() => buildEnvelope('events', { type: 't', source: {} }));
    expect(nested).toEqual([expect.objectContaining({ path: 'source.service', rule: 'required' })]);
  });

  test('every bad field is reported at once, each with its rule', () => {
    const issues = issuesOf(() =>
      buildEnvelope('events', { type: 42, source: { service: '' }, level: 'loud', ts: 'yesterday', message: {} }),
    );
    const byPath = Object.fromEntries(issues.map((issue) => [issue.path, issue.rule]));
    expect(byPath).toEqual({ type: 'type', 'source.service': 'min', level: 'enum', ts: 'format', message: 'type' });
  });

  test('data must be a JSON object: arrays, strings and null are rejected naming data', () => {
    for (const data of [[1, 2], 'text', null, 5]) {
      const issues = issuesOf(() => buildEnvelope('events', { type: 't', source: { service: 's' }, data }));
      expect(issues).toEqual([expect.objectContaining({ path: 'data', rule: 'type' })]);
    }
  });

  test('a timestamp must be ISO-8601 in UTC', () => {
    const issues = issuesOf(() =>
      buildEnvelope('events', { type: 't', source: { service: 's' }, ts: '2026-11-23T05:00:00+02:00' }),
    );
    expect(issues).toEqual([expect.objectContaining({ path: 'ts', rule: 'format' })]);
  });

  test('a non-object message is rejected as a whole', () => {
    for (const input of [null, 'hello', 3, ['a']]) {
      expect(issuesOf(() => buildEnvelope('events', input))).toEqual([
        { path: '', rule: 'type', message: 'expected an object' },
      ]);
    }
  });

  test('the error message names field and rule, for logs and HTTP answers', () => {
    expect(() => buildEnvelope('events', { source: { service: 's' } })).toThrow(/type: .*\[required\]/);
  });
});

describe('the fast path', () => {
  // every combination of these values, valid and not, through both paths
  const pools: Record<string, unknown[]> = {
    type: [undefined, 't', '', 'x'.repeat(128), 'x'.repeat(129), 5],
    source: [
      undefined,
      { service: 's' },
      { service: 's', instance: 'i', host: 'h' },
      { service: '' },
      { service: 's', extra: 1 },
      { service: 's', host: 'h'.repeat(256) },
      { service: 's', instance: 3 },
      Object.assign(Object.create(null) as object, { service: 's' }),
      ['s'],
    ],
    id: [undefined, 'my-id', '', 'i'.repeat(129)],
    ts: [
      undefined,
      '',
      '2026-01-02T03:04:05.678Z',
      '2026-01-01T00:00:00Z',
      '2026-02-30T00:00:00.000Z',
      '2026-01-01T00:00:00+01:00',
      'yesterday',
      0,
    ],
    level: [undefined, 'info', 'silly', 'loud', 1],
    message: [undefined, '', 'hello', null],
    data: [undefined, {}, { a: [1, { b: 2 }] }, [], null, 'x', new Date(0), Object.create(null) as object],
    extra: [undefined, 'kept'],
  };
  const keys = Object.keys(pools);

  function* inputs(index = 0, acc: Record<string, unknown> = {}): Generator<Record<string, unknown>> {
    if (index === keys.length) {
      yield { ...acc };
      return;
    }
    for (const value of pools[keys[index]!]!) {
      const next = { ...acc };
      if (value !== undefined) {
        next[keys[index]!] = value;
      }
      yield* inputs(index + 1, next);
    }
  }

  test('accepts nothing the schema rejects, and builds exactly what the schema builds', () => {
    let fastCount = 0;
    let total = 0;
    for (const input of inputs()) {
      total++;
      const fast = fastEnvelope('events', input);
      let slow: unknown;
      try {
        slow = schemaEnvelope('events', input);
      } catch (error) {
        slow = error;
      }
      if (fast) {
        fastCount++;
        expect(slow).not.toBeInstanceOf(Error);
        // generated id and ts differ between the two calls; given ones must be kept alike
        expect(JSON.parse(JSON.stringify(fast))).toEqual({
          ...JSON.parse(JSON.stringify(slow)),
          ...(input.id === undefined ? { id: fast.id } : {}),
          ...(input.ts === undefined ? { ts: fast.ts } : {}),
        });
      }
    }
    // the fast path must actually carry the common cases
    expect(fastCount).toBeGreaterThan(100);
    expect(total).toBeGreaterThan(10_000);
  });

  test('a stored envelope read back: accepts nothing the schema rejects, builds exactly what it builds', () => {
    const variants = [
      ['events', 1],
      ['Events', 1],
      ['events', 2],
      [7, 1],
      [undefined, 1],
      ['events', undefined],
    ] as const;
    let fastCount = 0;
    let index = 0;
    for (const input of inputs()) {
      // every input with the good channel and version, and with one of the bad ones in turn
      for (const [channel, v] of [variants[0], variants[1 + (index++ % (variants.length - 1))]!]) {
        const candidate = { ...input, id: input.id ?? 'an-id', ts: input.ts ?? '2026-01-01T00:00:00.000Z' };
        Object.assign(candidate, channel === undefined ? {} : { channel }, v === undefined ? {} : { v });
        const fast = fastStoredEnvelope(candidate);
        if (!fast) {
          continue;
        }
        fastCount++;
        expect(JSON.parse(JSON.stringify(fast))).toEqual(JSON.parse(JSON.stringify(schemaValidate(candidate))));
      }
    }
    expect(fastCount).toBeGreaterThan(100);
  });

  test('a caller-given timestamp the schema accepts takes the fast path (the collector and OTLP always give one)', () => {
    const input = { type: 't', source: { service: 's' }, ts: '2026-01-01T00:00:00.000Z' };
    expect(fastEnvelope('events', input)?.ts).toBe('2026-01-01T00:00:00.000Z');
    expect(fastEnvelope('events', { ...input, ts: '2026-02-30T00:00:00.000Z' })).toBeUndefined();
    expect(fastEnvelope('events', { ...input, ts: 1 })).toBeUndefined();
  });
});

describe('serializeEnvelope', () => {
  const base = buildEnvelope('events', { type: 't', source: { service: 's' } });

  test('an envelope over the byte limit is rejected with rule max_bytes; multi-byte characters count as bytes', () => {
    const ascii = { ...base, message: 'a'.repeat(DEFAULT_MAX_MESSAGE_BYTES) };
    expect(issuesOf(() => serializeEnvelope(ascii, DEFAULT_MAX_MESSAGE_BYTES))).toEqual([
      expect.objectContaining({ path: '', rule: 'max_bytes' }),
    ]);
    // 30k characters, 90k bytes of UTF-8
    const wide = { ...base, message: '€'.repeat(30_000) };
    expect(issuesOf(() => serializeEnvelope(wide, DEFAULT_MAX_MESSAGE_BYTES))[0]!.message).toMatch(/9\d{4} bytes/);
  });

  test('data that JSON cannot hold is a validation error naming data, not a crash', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const data of [{ n: 10n }, circular]) {
      const envelope = buildEnvelope('events', { type: 't', source: { service: 's' }, data });
      expect(issuesOf(() => serializeEnvelope(envelope, DEFAULT_MAX_MESSAGE_BYTES))).toEqual([
        expect.objectContaining({ path: 'data', rule: 'json' }),
      ]);
    }
  });

  test('an envelope at the limit passes', () => {
    const overhead = Buffer.byteLength(JSON.stringify({ ...base, message: '' }));
    const exact = { ...base, message: 'a'.repeat(1000 - overhead) };
    expect(Buffer.byteLength(serializeEnvelope(exact, 1000))).toBe(1000);
  });
});

describe('validateEnvelope', () => {
  test('rejects an envelope of another version or with extra top-level fields', () => {
    const good = buildEnvelope('events', { type: 't', source: { service: 's' } });
    expect(validateEnvelope(JSON.parse(JSON.stringify(good)))).toEqual(good);
    expect(issuesOf(() => validateEnvelope({ ...good, v: 2 }))).toEqual([expect.objectContaining({ path: 'v' })]);
    expect(issuesOf(() => validateEnvelope({ ...good, extra: 1 }))).toEqual([
      expect.objectContaining({ rule: 'unknown_key' }),
    ]);
  });
});

describe('nestsDeeperThan', () => {
  const nested = (levels: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) {
      value = i % 2 ? [value] : { v: value };
    }
    return value;
  };

  test('counts objects and arrays as levels: at the bound no, one past it yes', () => {
    expect(nestsDeeperThan(nested(64), 64)).toBe(false);
    expect(nestsDeeperThan(nested(65), 64)).toBe(true);
    expect(nestsDeeperThan(nested(5000), 64)).toBe(true);
    expect(nestsDeeperThan('text', 1)).toBe(false);
  });

  test('a large shallow tree and a deep path after many objects are both judged right', () => {
    const wide = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, tags: [i] })) };
    // the object, rows, a row, its tags: four levels
    expect(nestsDeeperThan(wide, 4)).toBe(false);
    expect(nestsDeeperThan(wide, 3)).toBe(true);
    expect(nestsDeeperThan({ ...wide, last: nested(70) }, 64)).toBe(true);
  });

  test('a cycle is not depth: it is left to the serializer, which names it', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(nestsDeeperThan(cyclic, 64)).toBe(false);
  });

  test('an inherited enumerable property is not part of the data', () => {
    const child = Object.create({ inherited: nested(100) }) as Record<string, unknown>;
    child.own = 1;
    expect(nestsDeeperThan(child, 64)).toBe(false);
  });
});
