import { partitionFor } from './publisher';

test('a key lands on the partition Kafka’s Java client picks (murmur2, positive, modulo)', () => {
  // murmur2 of these keys, from Apache Kafka's UtilsTest: "21" → -973932308, "foobar" → -790332482,
  // "abc" → 479470107; Java's partition is (hash & 0x7fffffff) % partitions
  expect(partitionFor(Buffer.from('21'), 12)).toBe(1173551340 % 12);
  expect(partitionFor(Buffer.from('foobar'), 12)).toBe(1357151166 % 12);
  expect(partitionFor(Buffer.from('abc'), 7)).toBe(479470107 % 7);
  expect(partitionFor(Buffer.from('anything'), 1)).toBe(0);
});
