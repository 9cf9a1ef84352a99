import { randomBytes } from 'node:crypto';
import { waitFor } from '@mupets/testkit';
import type { Delivery } from '@mupets/broker';
import { backends, brokerPerFile, message, type Backend } from './helpers';

// Redis: XREADGROUP counts entries, not bytes; the consumer reads a batch in parts. Kafka fetches by
// bytes, but a fetch returns whole record batches (as the producer wrote them, up to megabytes): the
// consumer hands them over in parts.
describe.each(backends)('$name', (backend: Backend) => {
  const file = brokerPerFile(__filename, backend);

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

  // 1 MiB, and an allowance below what one Kafka fetch of a partition brings (1 MiB)
  test.each([1024 * 1024, 256 * 1024])(
    'a backlog of the largest envelopes comes in batches of at most maxBatchBytes (%d)',
    async (maxBatchBytes) => {
      const channel = `big-${maxBatchBytes}`;
      const total = 200;
      for (let start = 0; start < total; start += 20) {
        await file.broker.publish(
          channel,
          Array.from({ length: 20 }, (_, k) => ({
            ...message(start + k),
            message: randomBytes(30_000).toString('hex'),
          })),
        );
      }
      const batches = await consumeAll(channel, total, maxBatchBytes);
      expect(batches.flat()).toHaveLength(total);
      expect(new Set(batches.flat().map((d) => d.id)).size).toBe(total);
      for (const batch of batches) {
        expect(bytesOf(batch)).toBeLessThanOrEqual(maxBatchBytes);
      }
      // at least as many entries at once as the allowance holds of the 64 KiB largest (16, 4), then
      // what the rest of the allowance holds
      expect(Math.max(...batches.map((batch) => batch.length))).toBeGreaterThanOrEqual(
        Math.floor(maxBatchBytes / (64 * 1024)),
      );
    },
  );

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
});
