import { Consumer as KafkaClientConsumer, ListOffsetTimestamps, type Admin } from '@platformatic/kafka';
import { baseClientOptions, type KafkaSettings, type TopicLayout } from './client';
import { kafkaId, parseKafkaId } from './id';
import { closeForcibly } from './publisher';
import { parseRecord, recordsOf, type KafkaRecordEntry } from './records';
import type { ResolvedRange } from '../range-options';
import type { StreamEntry } from '../types';

export interface KafkaRangeContext {
  readonly settings: KafkaSettings;
  readonly admin: Admin;
  readonly topic: string;
  readonly channel: string;
  layout(forceUpdate?: boolean): Promise<TopicLayout | undefined>;
}

/**
 * `range()` on Kafka: per partition, the offsets between the bounds (a bound applies to the
 * partition its id names), at most `count` from each end, read with plain fetches; then all
 * partitions merged by publish time and cut to `count`.
 */
export async function readKafkaRange(ctx: KafkaRangeContext, range: ResolvedRange): Promise<StreamEntry[]> {
  const layout = await ctx.layout(true);
  if (!layout) {
    return [];
  }
  const start = range.start === undefined ? undefined : parseKafkaId(range.start);
  const end = range.end === undefined ? undefined : parseKafkaId(range.end);
  const all = [...Array(layout.partitions).keys()];
  const [earliest, latest] = await Promise.all([
    offsets(ctx, all, ListOffsetTimestamps.EARLIEST),
    offsets(ctx, all, ListOffsetTimestamps.LATEST),
  ]);
  const count = BigInt(range.count);
  const client = fetchClient(ctx);
  const records: KafkaRecordEntry[] = [];
  try {
    for (const partition of all) {
      let lo = earliest.get(partition) ?? 0n;
      let hi = (latest.get(partition) ?? 0n) - 1n;
      if (start && start.partition === partition && start.offset > lo) {
        lo = start.offset;
      }
      if (end && end.partition === partition && end.offset < hi) {
        hi = end.offset;
      }
      if (hi < lo) {
        continue;
      }
      if (range.reverse) {
        lo = hi - count + 1n > lo ? hi - count + 1n : lo;
      } else {
        hi = lo + count - 1n < hi ? lo + count - 1n : hi;
      }
      records.push(...(await fetchPartition(client, layout, partition, lo, hi)));
    }
  } finally {
    await closeForcibly(client);
  }
  records.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
  if (range.reverse) {
    records.reverse();
  }
  return entriesOf(ctx, records, range.count);
}

/**
 * `replay()` on Kafka: per partition, from the first record published at or after the last
 * committed record's timestamp minus `windowMs`, up to that record, in pages of `count`.
 * `committed`: per partition, the group's committed offset (the next record it has not acked).
 */
export async function* readKafkaReplay(
  ctx: KafkaRangeContext,
  committed: ReadonlyMap<number, bigint>,
  windowMs: number,
  count: number,
): AsyncGenerator<StreamEntry[]> {
  const layout = await ctx.layout(true);
  if (!layout || committed.size === 0) {
    return;
  }
  const earliest = await offsets(ctx, [...committed.keys()], ListOffsetTimestamps.EARLIEST);
  const client = fetchClient(ctx);
  try {
    for (const [partition, next] of committed) {
      const last = next - 1n;
      const first = earliest.get(partition) ?? 0n;
      if (last < first) {
        continue;
      }
      const [newest] = await fetchPartition(client, layout, partition, last, last);
      if (!newest) {
        continue;
      }
      // the first offset published at or after the start of the window (at most `last`, which is)
      const from = (await offsets(ctx, [partition], BigInt(Math.max(0, newest.timestamp - windowMs)))).get(partition);
      let lo = from === undefined || from < first ? first : from;
      while (lo <= last) {
        const hi = lo + BigInt(count) - 1n < last ? lo + BigInt(count) - 1n : last;
        const entries = entriesOf(ctx, await fetchPartition(client, layout, partition, lo, hi), count);
        if (entries.length > 0) {
          yield entries;
        }
        lo = hi + 1n;
      }
    }
  } finally {
    await closeForcibly(client);
  }
}

/** A client for plain fetches (no group membership). */
function fetchClient(ctx: KafkaRangeContext): KafkaClientConsumer {
  return new KafkaClientConsumer({
    ...baseClientOptions(ctx.settings, `range-${ctx.channel}`),
    groupId: `${ctx.settings.clientId}-range-unused`, // required by the client; never joined
  });
}

/** Records as entries, at most `limit`; a record that is not a valid envelope is skipped and logged. */
function entriesOf(ctx: KafkaRangeContext, records: readonly KafkaRecordEntry[], limit: number): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const record of records) {
    if (entries.length === limit) {
      break;
    }
    const id = kafkaId(record.partition, record.offset);
    const parsed = parseRecord(record, ctx);
    if (parsed.ok) {
      entries.push({ id, channel: ctx.channel, envelope: parsed.envelope });
    } else {
      ctx.settings.logger.warn('range skipped a malformed entry', {
        channel: ctx.channel,
        id,
        error: parsed.error.message,
      });
    }
  }
  return entries;
}

/** The records of one partition from `lo` to `hi`, both inclusive. */
async function fetchPartition(
  client: KafkaClientConsumer,
  layout: TopicLayout,
  partition: number,
  lo: bigint,
  hi: bigint,
): Promise<KafkaRecordEntry[]> {
  const out: KafkaRecordEntry[] = [];
  let position = lo;
  while (position <= hi) {
    const response = await client.fetch({
      node: layout.leaders[partition] ?? -1,
      maxWaitTime: 0,
      topics: [
        {
          topicId: layout.id,
          partitions: [
            {
              partition,
              fetchOffset: position,
              partitionMaxBytes: 1 << 20,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
    });
    const read = recordsOf(response, new Map([[partition, position]])).get(partition);
    if (!read || read.next <= position) {
      break; // nothing more stored (trimmed meanwhile)
    }
    out.push(...read.records.filter((record) => record.offset <= hi));
    position = read.next;
  }
  return out;
}

async function offsets(ctx: KafkaRangeContext, partitions: number[], timestamp: bigint): Promise<Map<number, bigint>> {
  const [found] = await ctx.admin.listOffsets({
    topics: [{ name: ctx.topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
  });
  return new Map((found?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
}
