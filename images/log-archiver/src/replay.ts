import type { Archive, ArchiveInput } from '@mupets/archive';
import { compareStreamIds, isStreamId, streamIdTime, type Broker, type StreamEntry } from '@mupets/broker';

export interface ReplayOptions {
  broker: Broker;
  archive: Archive;
  channel: string;
  group: string;
  /** How far before the group's last delivered entry to go back. */
  windowMs: number;
  batchSize: number;
}

/**
 * Writes again the entries of the last `windowMs` before the group's last delivered entry.
 *
 * Why: OrientDB 3.2 confirms a commit before its write-ahead log reaches the disk (it flushes the
 * WAL every `storage.wal.commitTimeout`, 1 s by default), so a killed server can lose the last
 * commits, whose messages the archiver has already acked. The stream still holds them; writing
 * them again is harmless (the writer skips what is stored). Run when the archiver starts and
 * whenever OrientDB comes back after being unreachable. It needs ids that carry their time, as
 * Redis stream ids do; Kafka's have the same shape but not the time, so on Kafka the caller must
 * not replay (main.ts passes a window of 0). Returns how many records were missing and are now stored.
 */
export async function replayRecent(options: ReplayOptions): Promise<number> {
  const { broker, archive, channel } = options;
  const group = (await broker.stats(channel)).groups.find((g) => g.name === options.group);
  const last = group?.lastDeliveredId;
  if (!last || !isStreamId(last) || last === '0-0') {
    return 0;
  }
  const fromMs = Math.max(0, streamIdTime(last) - options.windowMs);
  const tail = broker.tail(channel, { fromId: `${fromMs}-0`, blockMs: 100, count: options.batchSize });
  let restored = 0;
  let batch: ArchiveInput[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length > 0) {
      restored += (await archive.write(batch, 'replay')).stored;
      batch = [];
    }
  };
  try {
    for (;;) {
      // the tail waits for new entries at the end of the stream: stop when none come for a moment
      const next = await Promise.race([tail.next(), idle(500)]);
      if (next === 'idle' || next.done) {
        break;
      }
      const entry: StreamEntry = next.value;
      if (compareStreamIds(entry.id, last) > 0) {
        break;
      }
      batch.push({ brokerId: entry.id, channel, envelope: entry.envelope });
      if (batch.length >= options.batchSize) {
        await flush();
      }
    }
    await flush();
  } finally {
    await tail.close();
  }
  return restored;
}

function idle(ms: number): Promise<'idle'> {
  return new Promise((resolve) => setTimeout(() => resolve('idle'), ms).unref());
}
