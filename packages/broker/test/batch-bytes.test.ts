import { randomBytes } from 'node:crypto';
import { waitFor } from '@mupets/testkit';
import type { Delivery } from '@mupets/broker';
import { brokerPerFile, message } from './helpers';

// Redis: XREADGROUP counts entries, not bytes; the consumer reads a batch in parts (Kafka fetches
// by bytes already, see ConsumeOptions.maxBatchBytes)
const file = brokerPerFile(__filename);

async function consumeAll(channel: string, total: number, maxBatchBytes: number): Promise<Delivery[][]> {
  const batches: Delivery[][] = [];
  const consumer = file.broker.consume(channel, 'bytes', (batch) => void batches.push([...batch]), {
    batchSize: 500,
    maxBatchBytes,
    blockMs: 100,
  });
  await waitFor(() => batches.flat().length >= total, { timeoutMs: 60_000, what: `${total} consumed` });
  await consumer.stop();
  return batches;
}

const bytesOf = (batch: readonly Delivery[]): number =>
  batch.reduce((sum, d) => sum + Buffer.byteLength(JSON.stringify(d.envelope)), 0);

test('a backlog of the largest envelopes comes in batches of at most maxBatchBytes', async () => {
  const total = 200;
  for (let start = 0; start < total; start += 20) {
    await file.broker.publish(
      'big',
      Array.from({ length: 20 }, (_, k) => ({ ...message(start + k), message: randomBytes(30_000).toString('hex') })),
    );
  }
  const batches = await consumeAll('big', total, 1024 * 1024);
  expect(batches.flat()).toHaveLength(total);
  expect(new Set(batches.flat().map((d) => d.id)).size).toBe(total);
  for (const batch of batches) {
    expect(bytesOf(batch)).toBeLessThanOrEqual(1024 * 1024);
  }
  // at least 16 entries (1 MiB over the 64 KiB largest) at once, then what the rest of the allowance holds
  expect(Math.max(...batches.map((batch) => batch.length))).toBeGreaterThanOrEqual(16);
});

test('small envelopes still fill batchSize: the byte bound costs them a few reads, not smaller batches', async () => {
  const total = 2000;
  for (let start = 0; start < total; start += 500) {
    await file.broker.publish(
      'small',
      Array.from({ length: 500 }, (_, k) => message(start + k)),
    );
  }
  const batches = await consumeAll('small', total, 1024 * 1024);
  expect(batches.flat().map((d) => (d.envelope.data as { i: number }).i)).toEqual(
    Array.from({ length: total }, (_, i) => i),
  );
  expect(batches.map((batch) => batch.length)).toEqual([500, 500, 500, 500]);
});
