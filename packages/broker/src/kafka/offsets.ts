import type { DeliveryState } from './delivery-state';
import { kafkaId } from './id';
import type { GroupStats, PartitionStats } from '../types';

/** A partition's stored range: offsets `start` (first kept) to `end` (next to be written). */
export interface PartitionBounds {
  readonly partition: number;
  readonly start: bigint;
  readonly end: bigint;
}

/** What Kafka knows of one consumer group of a channel. */
export interface GroupOffsets {
  /** The group's name in the broker contract (not Kafka's group id). */
  readonly name: string;
  readonly members: number;
  /** Committed offset and delivery state by partition; a partition without a commit is absent. */
  readonly committed: ReadonlyMap<number, { readonly offset: bigint; readonly state: DeliveryState | undefined }>;
}

const max = (...values: bigint[]): bigint => values.reduce((a, b) => (a > b ? a : b));
const min = (...values: bigint[]): bigint => values.reduce((a, b) => (a < b ? a : b));

/**
 * The contract's group stats from Kafka's offsets. Summed over partitions: `pending` counts entries
 * delivered and not acked (committed offset up to the delivery state's "delivered up to"), `lag`
 * entries not delivered yet. `lastDeliveredId` is the newest delivered entry ('' when none),
 * `oldestPendingId` the entry at the commit point of the partition whose pending entry is oldest.
 */
export function groupStatsOf(group: GroupOffsets, bounds: readonly PartitionBounds[], now: number): GroupStats {
  let pending = 0n;
  let lag = 0n;
  let last: { id: string; ts: number } | undefined;
  let oldest: { id: string; ts: number | undefined } | undefined;
  const partitions: PartitionStats[] = [];
  for (const { partition, start, end } of bounds) {
    const committed = group.committed.get(partition);
    const acked = max(committed?.offset ?? start, start);
    const delivered = max(committed?.state?.deliveredUpTo ?? acked, acked);
    pending += delivered - acked;
    lag += max(end - delivered, 0n);
    partitions.push({
      partition,
      committedOffset: Number(acked),
      endOffset: Number(end),
      pending: Number(delivered - acked),
      lag: Number(max(end - delivered, 0n)),
    });
    if (delivered > 0n) {
      const ts = committed?.state?.lastDeliveredTs ?? 0;
      if (!last || ts >= last.ts) {
        last = { id: kafkaId(partition, delivered - 1n), ts };
      }
    }
    if (delivered > acked) {
      const ts = committed?.state?.oldestPendingTs;
      if (!oldest || (ts !== undefined && (oldest.ts === undefined || ts < oldest.ts))) {
        oldest = { id: kafkaId(partition, acked), ts };
      }
    }
  }
  return {
    name: group.name,
    consumers: group.members,
    pending: Number(pending),
    lastDeliveredId: last?.id ?? '',
    lag: Number(lag),
    oldestPendingId: oldest?.id ?? null,
    oldestPendingAgeMs: oldest?.ts === undefined ? null : Math.max(0, now - oldest.ts),
    partitions,
  };
}

/**
 * Where to cut each partition so that at most `maxLen` entries stay, shared in proportion to what
 * each partition holds (exact for one partition; never more than `maxLen` in all).
 */
export function lengthCuts(bounds: readonly PartitionBounds[], maxLen: number): Map<number, bigint> {
  const total = bounds.reduce((sum, b) => sum + (b.end - b.start), 0n);
  const cuts = new Map<number, bigint>();
  for (const { partition, start, end } of bounds) {
    const length = end - start;
    const keep = total === 0n ? 0n : (BigInt(maxLen) * length) / total;
    cuts.set(partition, max(end - min(keep, length), start));
  }
  return cuts;
}

export interface TrimPlan {
  /** New start offset by partition (only partitions that move). */
  readonly deleteBefore: ReadonlyMap<number, bigint>;
  /** A group's un-acked entries stopped a cut short. */
  readonly heldBackByGroup: boolean;
  /** The groups that did, by name. */
  readonly heldBy: readonly string[];
}

/**
 * Lowers each partition's cut to what every group of the channel has committed: an entry a group
 * has not acked (or a partition it has no commit for) is never removed.
 */
export function trimPlan(
  bounds: readonly PartitionBounds[],
  groups: readonly GroupOffsets[],
  cuts: ReadonlyMap<number, bigint>,
): TrimPlan {
  const deleteBefore = new Map<number, bigint>();
  let heldBackByGroup = false;
  const heldBy = new Set<string>();
  for (const { partition, start, end } of bounds) {
    const cut = min(cuts.get(partition) ?? start, end);
    let floor = cut;
    for (const group of groups) {
      const committed = group.committed.get(partition)?.offset ?? start;
      if (committed < cut) {
        heldBy.add(group.name);
      }
      floor = min(floor, committed);
    }
    if (floor < cut) {
      heldBackByGroup = true;
    }
    if (floor > start) {
      deleteBefore.set(partition, floor);
    }
  }
  return { deleteBefore, heldBackByGroup, heldBy: [...heldBy].sort() };
}
