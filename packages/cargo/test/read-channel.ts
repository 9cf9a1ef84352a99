import type { Broker, Envelope } from '@mupets/broker';

/** Every envelope on `channel` right now, oldest first (read with a tail from the stream's start). */
export async function readChannel(broker: Broker, channel: string): Promise<Envelope[]> {
  const { length } = await broker.stats(channel);
  const envelopes: Envelope[] = [];
  if (length === 0) {
    return envelopes;
  }
  const tail = broker.tail(channel, { fromId: '0', blockMs: 200 });
  try {
    for await (const entry of tail) {
      envelopes.push(entry.envelope);
      if (envelopes.length >= length) {
        break;
      }
    }
  } finally {
    await tail.close();
  }
  return envelopes;
}
