import type { fetchV17 } from '@platformatic/kafka';
import { completeEnvelope } from '../envelope-completion';
import type { Envelope } from '../envelope.schema';
import { EnvelopeValidationError } from '../errors';
import { kafkaId } from './id';

/** One record read from a partition. */
export interface KafkaRecordEntry {
  readonly partition: number;
  readonly offset: bigint;
  /** When it was published (the producer's CreateTime), ms since the epoch. */
  readonly timestamp: number;
  readonly value: Buffer | null;
}

// a control batch (transaction markers) carries no messages but takes offsets
const IS_CONTROL = 0b10_0000;

/**
 * The records of a fetch response, per partition, at or after each partition's position; and the
 * position after the last offset the response covered (control batches included), so reading
 * resumes after them.
 */
export function recordsOf(
  response: fetchV17.FetchResponse,
  positions: ReadonlyMap<number, bigint>,
): Map<number, { records: KafkaRecordEntry[]; next: bigint }> {
  const out = new Map<number, { records: KafkaRecordEntry[]; next: bigint }>();
  for (const topic of response.responses) {
    for (const { partitionIndex: partition, records: batches } of topic.partitions) {
      const from = positions.get(partition);
      if (from === undefined || !batches) {
        continue;
      }
      const records: KafkaRecordEntry[] = [];
      let next = from;
      for (const batch of batches) {
        const last = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        if (last + 1n > next) {
          next = last + 1n;
        }
        if (batch.attributes & IS_CONTROL) {
          continue;
        }
        for (const record of batch.records) {
          const offset = batch.firstOffset + BigInt(record.offsetDelta);
          if (offset >= from) {
            records.push({
              partition,
              offset,
              timestamp: Number(batch.firstTimestamp + record.timestampDelta),
              value: record.value,
            });
          }
        }
      }
      out.set(partition, { records, next });
    }
  }
  return out;
}

export type ParsedRecord =
  | { readonly ok: true; readonly envelope: Envelope }
  | { readonly ok: false; readonly fields: string[]; readonly error: Error };

/** The topic a record was read from, and its channel. */
export interface TopicOrigin {
  readonly topic: string;
  readonly channel: string;
}

/**
 * Reads an envelope back from a record's value, completing a minimal one (completeEnvelope: its time
 * is the record timestamp); a malformed record is reported, never thrown.
 */
export function parseRecord(record: KafkaRecordEntry, origin: TopicOrigin): ParsedRecord {
  const { value } = record;
  if (!value) {
    return { ok: false, fields: [], error: new Error('record has no value') };
  }
  const text = value.toString('utf8');
  const fields = ['value', text];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, fields, error: new Error(`record is not valid JSON: ${(error as Error).message}`) };
  }
  try {
    const position = {
      stream: origin.topic,
      channel: origin.channel,
      brokerId: kafkaId(record.partition, record.offset),
      timeMs: record.timestamp,
    };
    return { ok: true, envelope: completeEnvelope(parsed, position) };
  } catch (error) {
    return { ok: false, fields, error: error instanceof EnvelopeValidationError ? error : (error as Error) };
  }
}
