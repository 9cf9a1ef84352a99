import { decodeData, decodeKey, encodeData, encodeKey } from './data-codec';

describe('data codec', () => {
  it('leaves plain JSON as it is', () => {
    const data = { status: 500, ok: true, none: null, list: [1, 'a', { k: [] }], nested: { 'a.b': 'größe 🎉' } };
    expect(encodeData(data)).toEqual(data);
    expect(decodeData(encodeData(data))).toEqual(data);
  });

  it.each(['@rid', '@class', '@type', '@', '~', '~json', '~~x', '~"x"', '\ud800', '@\udc00x', '"q"', '', 'a b', 'a.b'])(
    'keeps the key %j (escaped when OrientDB or the driver would not keep it)',
    (key) => {
      expect(decodeKey(encodeKey(key))).toBe(key);
      const encoded = encodeKey(key);
      if (key.startsWith('@') || key.startsWith('~') || /\p{Surrogate}/u.test(key)) {
        expect(encoded.startsWith('~')).toBe(true);
        expect(/\p{Surrogate}/u.test(encoded)).toBe(false);
      } else {
        expect(encoded).toBe(key);
      }
    },
  );

  it('never writes an @ key, and an object holding @class stays data', () => {
    const data = { '@class': 'OUser', inner: { '@rid': '#5:0', '@class': 'OUser', list: [{ '@class': 'X' }] } };
    const stored = JSON.stringify(encodeData(data));
    expect(stored).not.toMatch(/"@/);
    expect(decodeData(encodeData(data))).toEqual(data);
  });

  it('keeps numbers beyond a LONG and strings with a lone surrogate in a marker map', () => {
    const data = { huge: 1e20, negative: -1e19, safe: 2 ** 62, broken: 'a\udc00b', list: [1e300, 1e21] };
    const stored = encodeData(data);
    expect(stored.huge).toEqual({ '~json': '100000000000000000000' });
    expect(stored.broken).toEqual({ '~json': '"a\\udc00b"' });
    expect(stored.safe).toBe(2 ** 62);
    expect(decodeData(stored)).toEqual(data);
  });

  it('a user map that looks like a marker is not taken for one', () => {
    const data = { x: { '~json': '1' }, y: { '~json': '"s"', other: 2 } };
    expect(decodeData(encodeData(data))).toEqual(data);
  });

  it('reads the JSON text records written before migration 2 hold', () => {
    expect(decodeData('{"a":{"@class":"x"},"b":[1]}')).toEqual({ a: { '@class': 'x' }, b: [1] });
    expect(decodeData(null)).toBeUndefined();
  });
});
