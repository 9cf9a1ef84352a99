import { Consumer as KafkaClientConsumer, ListOffsetTimestamps, type Admin } from '@platformatic/kafka';
import { baseClientOptions, kafkaErrorIs, watchClient, type KafkaSettings, type TopicLayout } from './client';
import { isKafkaId, kafkaId, parseKafkaId } from './id';
import { closeForcibly } from './publisher';
import { parseRecord, recordsOf, type KafkaRecordEntry } from './records';
import { backoffMs, sleep } from '../sleep';
import { tailOf } from '../tail-of';
import { untilAborted } from '../until-aborted';
import type { StreamEntry, Tail, TailOptions } from '../types';

export interface KafkaTailContext {
  readonly settings: KafkaSettings;
  readonly admin: Admin;
  readonly topic: string;
  readonly channel: string;
  /** The topic's layout; undefined while it does not exist. */
  layout(forceUpdate?: boolean): Promise<TopicLayout | undefined>;
  /** Holds back this process's publishes until `until` settles (see `$` below). */
  holdPublishes(until: Promise<unknown>): void;
}

type Positions = Map<number, bigint>;

/**
 * Follows a topic with plain fetches (no group, nothing committed): for live views. `fromId`:
 * - `$` (default): entries stored after tail() was called. The end offsets are asked for at once,
 *   and this process's publishes wait for that answer, so a publish made right after tail()
 *   returns is always seen (as with Redis, where both share one connection);
 * - `0`: everything still stored;
 * - an entry id `<partition>-<offset>`: that partition from the next offset on, the other
 *   partitions from the entry's timestamp (exact on a one-partition channel).
 * Entries of one fetch are yielded in timestamp order; the positions are the cursor, so a Kafka
 * restart causes neither a gap nor a repeat.
 */
export function openKafkaTail(ctx: KafkaTailContext, options: TailOptions = {}, onClose: (tail: Tail) => void): Tail {
  const fromId = options.fromId ?? '$';
  if (fromId !== '$' && fromId !== '0' && !isKafkaId(fromId)) {
    throw new RangeError(`tail fromId must be "$", "0" or an entry id like 0-41, got ${JSON.stringify(fromId)}`);
  }
  const blockMs = options.blockMs ?? 5000;
  const client = new KafkaClientConsumer({
    ...baseClientOptions(ctx.settings, `tail-${ctx.channel}`),
    groupId: `${ctx.settings.clientId}-tail-unused`, // required by the client; never joined
  });
  const watcher = watchClient(client, `tail:${ctx.channel}`, ctx.settings);
  const closing = new AbortController();
  const start = startPositions(ctx, fromId);
  start.catch(() => undefined);
  if (fromId === '$') {
    ctx.holdPublishes(start);
  }

  async function* entries(): AsyncGenerator<StreamEntry, undefined> {
    try {
      let positions: Positions | undefined;
      let failures = 0;
      while (!closing.signal.aborted) {
        let records: KafkaRecordEntry[];
        try {
          positions ??= await start.catch(() => startPositions(ctx, fromId));
          records = await readOnce(ctx, client, positions, blockMs, closing.signal);
          failures = 0;
        } catch (error) {
          if (closing.signal.aborted) {
            return;
          }
          if (positions && kafkaErrorIs(error, 'OFFSET_OUT_OF_RANGE')) {
            await skipTrimmed(ctx, positions).catch(() => undefined);
          } else if (++failures === 1) {
            ctx.settings.logger.warn('tail read failed, retrying', {
              channel: ctx.channel,
              error: (error as Error).message,
            });
          }
          await sleep(backoffMs(failures, 50, 2000), closing.signal);
          continue;
        }
        for (const record of records) {
          const id = kafkaId(record.partition, record.offset);
          const parsed = parseRecord(record, ctx);
          if (parsed.ok) {
            yield { id, channel: ctx.channel, envelope: parsed.envelope };
          } else {
            ctx.settings.logger.warn('tail skipped a malformed entry', {
              channel: ctx.channel,
              id,
              error: parsed.error.message,
            });
          }
        }
      }
    } finally {
      closing.abort();
      watcher.markClosing();
      await closeForcibly(client);
    }
  }

  return tailOf(
    entries(),
    async () => {
      closing.abort();
      watcher.markClosing();
      await closeForcibly(client);
    },
    onClose,
  );
}

/** Where reading starts, per partition, for `fromId`. A topic that does not exist yet starts empty. */
async function startPositions(ctx: KafkaTailContext, fromId: string): Promise<Positions> {
  const layout = await ctx.layout(true);
  if (!layout) {
    return new Map();
  }
  const all = [...Array(layout.partitions).keys()];
  if (fromId === '$' || fromId === '0') {
    return offsetsAt(ctx, all, fromId === '$' ? ListOffsetTimestamps.LATEST : ListOffsetTimestamps.EARLIEST);
  }
  const { partition, offset } = parseKafkaId(fromId);
  const others = all.filter((p) => p !== partition);
  const timestamp = others.length > 0 ? await timestampOf(ctx, layout, partition, offset) : undefined;
  const positions =
    timestamp === undefined
      ? await offsetsAt(ctx, others, ListOffsetTimestamps.EARLIEST)
      : await offsetsAt(ctx, others, BigInt(timestamp));
  positions.set(partition, offset + 1n);
  return positions;
}

/** Entries were trimmed under the tail's position: it reads on from the first one kept. */
async function skipTrimmed(ctx: KafkaTailContext, positions: Positions): Promise<void> {
  const starts = await offsetsAt(ctx, [...positions.keys()], ListOffsetTimestamps.EARLIEST);
  for (const [partition, start] of starts) {
    if ((positions.get(partition) ?? 0n) < start) {
      positions.set(partition, start);
    }
  }
}

/** Offsets per partition for a ListOffsets timestamp; "no entry that late" (-1) becomes the end. */
async function offsetsAt(ctx: KafkaTailContext, partitions: number[], timestamp: bigint): Promise<Positions> {
  if (partitions.length === 0) {
    return new Map();
  }
  const query = (at: bigint) =>
    ctx.admin.listOffsets({
      topics: [
        { name: ctx.topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: at })) },
      ],
    });
  const [found] = await query(timestamp);
  const positions: Positions = new Map((found?.partitions ?? []).map((p) => [p.partitionIndex, p.offset]));
  const missing = [...positions].filter(([, offset]) => offset < 0n).map(([partition]) => partition);
  if (missing.length > 0) {
    const [ends] = await query(ListOffsetTimestamps.LATEST);
    for (const p of ends?.partitions ?? []) {
      if (missing.includes(p.partitionIndex)) {
        positions.set(p.partitionIndex, p.offset);
      }
    }
  }
  return positions;
}

/** The timestamp of one entry, read with a small fetch; undefined when it is no longer stored. */
async function timestampOf(
  ctx: KafkaTailContext,
  layout: TopicLayout,
  partition: number,
  offset: bigint,
): Promise<number | undefined> {
  const client = new KafkaClientConsumer({
    ...baseClientOptions(ctx.settings, `tail-${ctx.channel}`),
    groupId: `${ctx.settings.clientId}-tail-unused`,
  });
  try {
    const response = await client.fetch({
      node: layout.leaders[partition] ?? -1,
      maxWaitTime: 0,
      topics: [
        {
          topicId: layout.id,
          partitions: [
            {
              partition,
              fetchOffset: offset,
              partitionMaxBytes: 128 * 1024,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            },
          ],
        },
      ],
    });
    const first = recordsOf(response, new Map([[partition, offset]])).get(partition)?.records[0];
    return first?.offset === offset ? first.timestamp : undefined;
  } catch {
    return undefined;
  } finally {
    await closeForcibly(client);
  }
}

/**
 * One round of fetches (one per partition leader), waiting up to `blockMs` for new entries;
 * advances `positions`. Partitions added to the topic since are read from their start.
 */
async function readOnce(
  ctx: KafkaTailContext,
  client: KafkaClientConsumer,
  positions: Positions,
  blockMs: number,
  signal: AbortSignal,
): Promise<KafkaRecordEntry[]> {
  const layout = await ctx.layout();
  if (!layout) {
    await sleep(Math.min(blockMs, 500), signal);
    return [];
  }
  for (let partition = 0; partition < layout.partitions; partition++) {
    if (!positions.has(partition)) {
      positions.set(partition, 0n);
    }
  }
  const byLeader = new Map<number, number[]>();
  for (const partition of positions.keys()) {
    const leader = layout.leaders[partition] ?? -1;
    byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
  }
  const out: KafkaRecordEntry[] = [];
  await Promise.all(
    [...byLeader].map(async ([node, partitions]) => {
      const asked = new Map(partitions.map((p) => [p, positions.get(p)!]));
      const fetching = client.fetch({
        node,
        maxWaitTime: blockMs,
        minBytes: 1,
        maxBytes: 8 * 1024 * 1024,
        topics: [
          {
            topicId: layout.id,
            partitions: partitions.map((partition) => ({
              partition,
              fetchOffset: asked.get(partition)!,
              partitionMaxBytes: 1024 * 1024,
              currentLeaderEpoch: -1,
              lastFetchedEpoch: -1,
            })),
          },
        ],
      });
      const response = await untilAborted(fetching, signal);
      if (!response) {
        return;
      }
      for (const [partition, { records, next }] of recordsOf(response, asked)) {
        out.push(...records);
        positions.set(partition, next);
      }
    }),
  );
  return out.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
}
