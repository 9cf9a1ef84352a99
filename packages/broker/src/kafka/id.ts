/**
 * Broker ids of Kafka entries: `<partition>-<offset>`, both decimal (`0-41` is the 42nd record of
 * partition 0). The shape matches a Redis stream id (`\d+-\d+`), so code that checks the shape keeps
 * working, but the numbers mean partition and offset, not milliseconds and sequence: on a one-partition
 * channel `compareStreamIds` orders them correctly; across partitions no order exists.
 */

const KAFKA_ID_RE = /^(\d{1,9})-(\d{1,19})$/;

export interface KafkaPosition {
  readonly partition: number;
  readonly offset: bigint;
}

export function kafkaId(partition: number, offset: bigint): string {
  return `${partition}-${offset}`;
}

export function isKafkaId(id: string): boolean {
  return KAFKA_ID_RE.test(id);
}

/** Throws RangeError naming the rule when `id` is not `<partition>-<offset>`. */
export function parseKafkaId(id: string): KafkaPosition {
  const match = KAFKA_ID_RE.exec(id);
  if (!match) {
    throw new RangeError(`not a Kafka entry id: ${JSON.stringify(id)} (expected <partition>-<offset>, e.g. 0-41)`);
  }
  return { partition: Number(match[1]), offset: BigInt(match[2]!) };
}
