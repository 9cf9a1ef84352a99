import { compareStreamIds, isStreamId } from '../redis/stream-id';
import { isKafkaId, kafkaId, parseKafkaId } from './id';

test('an entry id is <partition>-<offset> and reads back', () => {
  expect(kafkaId(0, 41n)).toBe('0-41');
  expect(kafkaId(12, 9_007_199_254_740_993n)).toBe('12-9007199254740993');
  expect(parseKafkaId('12-9007199254740993')).toEqual({ partition: 12, offset: 9_007_199_254_740_993n });
});

test('it has the shape of a Redis stream id, and on one partition compareStreamIds orders it', () => {
  expect(isStreamId('0-41')).toBe(true);
  expect(compareStreamIds('0-9', '0-10')).toBe(-1);
});

test('anything else is refused with the expected form', () => {
  for (const bad of ['', '0', '-1-2', '0-', 'a-1', '1-2-3', '0-1 ']) {
    expect(isKafkaId(bad)).toBe(false);
    expect(() => parseKafkaId(bad)).toThrow(
      `not a Kafka entry id: ${JSON.stringify(bad)} (expected <partition>-<offset>, e.g. 0-41)`,
    );
  }
});
