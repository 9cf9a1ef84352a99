import { compareStreamIds, isStreamId, streamIdTime } from './stream-id';

test('stream ids compare numerically by time, then sequence', () => {
  expect(compareStreamIds('9-0', '10-0')).toBe(-1);
  expect(compareStreamIds('10-10', '10-9')).toBe(1);
  expect(compareStreamIds('1700000000000-5', '1700000000000-5')).toBe(0);
  expect(compareStreamIds('18446744073709551615-1', '18446744073709551615-2')).toBe(-1);
});

test('only <ms>-<seq> is a stream id', () => {
  expect(isStreamId('1-0')).toBe(true);
  expect(isStreamId('$')).toBe(false);
  expect(isStreamId('1-')).toBe(false);
  expect(isStreamId('a-1')).toBe(false);
  expect(() => compareStreamIds('x', '1-0')).toThrow(/not a stream id/);
});

test('the time of an id is its millisecond part', () => {
  expect(streamIdTime('1700000000123-7')).toBe(1700000000123);
});
