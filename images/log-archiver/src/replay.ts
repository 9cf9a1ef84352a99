import type { Archive } from '@mupets/archive';
import type { Broker } from '@mupets/broker';

export interface ReplayOptions {
  broker: Broker;
  archive: Archive;
  channel: string;
  group: string;
  /** How far before the group's position to go back. */
  windowMs: number;
  batchSize: number;
}

/**
 * Writes again the entries of the last `windowMs` before the group's position (`Broker.replay`).
 *
 * Why: OrientDB 3.2 confirms a commit before its write-ahead log reaches the disk (it flushes the
 * WAL every `storage.wal.commitTimeout`, 1 s by default), so a killed server can lose the last
 * commits, whose messages the archiver has already acked. The channel still holds them; writing
 * them again is harmless (the writer skips what is stored). Run when the archiver starts and
 * whenever OrientDB comes back after being unreachable, on either backend. Returns how many
 * records were missing and are now stored.
 */
export async function replayRecent(options: ReplayOptions): Promise<number> {
  const { broker, archive, channel } = options;
  let restored = 0;
  for await (const page of broker.replay(channel, options.group, {
    windowMs: options.windowMs,
    count: options.batchSize,
  })) {
    const batch = page.map((entry) => ({ brokerId: entry.id, channel, envelope: entry.envelope }));
    restored += (await archive.write(batch, 'replay')).stored;
  }
  return restored;
}
