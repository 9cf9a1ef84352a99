import { resolve } from 'node:path';
import { kafkaBrokers, spawnTs, testPrefix, waitFor } from '@mupets/testkit';
import type { Delivery } from '@mupets/broker';
import { kafkaBackend, kafkaBrokerFor, message } from './helpers';

const prefix = testPrefix(__filename).replace(/:/g, '.');

test('a consumer process killed mid-batch: its partition is rebalanced to the surviving member; none lost, none handled twice after ack', async () => {
  const assigned: number[][] = [];
  const logger = {
    debug: () => undefined,
    info: (text: string, meta?: Record<string, unknown>) => {
      if (text === 'kafka partitions assigned') {
        assigned.push(meta!.partitions as number[]);
      }
    },
    warn: () => undefined,
    error: () => undefined,
  };
  // two partitions: each member of the group owns one
  const broker = kafkaBrokerFor(kafkaBrokers(), prefix, { partitions: 2, logger });
  const seen: Delivery[] = [];
  let child: ReturnType<typeof spawnTs> | undefined;
  try {
    await broker.ready(10_000);
    const survivor = broker.consume('work', 'workers', (batch) => void seen.push(...batch), {
      consumer: 'survivor',
      batchSize: 100,
      blockMs: 50,
      minIdleMs: 500,
    });
    await waitFor(() => assigned.at(-1)?.length === 2, {
      timeoutMs: 30_000,
      what: 'the survivor owning both partitions',
    });

    // a real process joins the group, takes one partition, acks a batch, hangs in the next one
    child = spawnTs(resolve(__dirname, 'fixtures/dying-consumer.ts'), {
      ...kafkaBackend.childEnv(kafkaBrokers()),
      KEY_PREFIX: prefix,
      CHANNEL: 'work',
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((done) => child!.once('exit', done));
    const doomedPartition = await waitFor(
      () => {
        const lines = [...out.matchAll(/INFO kafka partitions assigned (.*)\n/g)];
        const partitions =
          lines.length > 0 ? (JSON.parse(lines.at(-1)![1]!) as { partitions: number[] }).partitions : [];
        return partitions.length === 1 && assigned.at(-1)?.length === 1 ? [partitions[0]!] : undefined;
      },
      { timeoutMs: 30_000, what: 'the group rebalanced to one partition each' },
    );
    const survivorPartition = 1 - doomedPartition[0]!;
    expect(assigned.at(-1)).toEqual([survivorPartition]);

    // svc-a lands on partition 0, svc-b on partition 1 (Kafka's default partitioner on the service name)
    const ids = await broker.publish(
      'work',
      Array.from({ length: 300 }, (_, i) => message(i, { source: { service: i % 2 === 0 ? 'svc-a' : 'svc-b' } })),
    );
    const onDoomed = ids.filter((id) => id.startsWith(`${doomedPartition[0]}-`));
    const onSurvivor = ids.filter((id) => id.startsWith(`${survivorPartition}-`));
    expect([onDoomed.length, onSurvivor.length]).toEqual([150, 150]);

    const acked = JSON.parse(
      (await waitFor(() => /ACKED (.*)\n/.exec(out), { timeoutMs: 30_000, what: 'first batch acked' }))[1]!,
    ) as string[];
    const held = JSON.parse(
      (await waitFor(() => /HOLDING (.*)\n/.exec(out), { timeoutMs: 30_000, what: 'second batch held' }))[1]!,
    ) as string[];
    child.kill('SIGKILL');
    await exited;
    expect(acked).toEqual(onDoomed.slice(0, 50));
    expect(held).toEqual(onDoomed.slice(50, 100));

    // the group drops the dead member after its session timeout; the survivor gets its partition
    await waitFor(() => seen.length >= 250, { timeoutMs: 60_000, what: 'the rest of the entries' });
    await waitFor(
      async () => {
        const [group] = (await broker.stats('work')).groups;
        return group?.pending === 0 && group.lag === 0;
      },
      { what: 'nothing pending, nothing left' },
    );
    expect(assigned.at(-1)).toEqual([0, 1]);
    await survivor.stop();

    const handled = seen.map((d) => d.id);
    expect(new Set(handled).size).toBe(handled.length); // none twice
    expect(handled.filter((id) => acked.includes(id))).toEqual([]); // acked entries never again
    expect([...acked, ...handled].sort()).toEqual([...ids].sort()); // none lost
    // the held entries came back to the survivor marked as a second delivery; the rest as a first
    expect(seen.filter((d) => held.includes(d.id)).map((d) => d.deliveries)).toEqual(held.map(() => 2));
    expect(seen.filter((d) => !held.includes(d.id)).every((d) => d.deliveries === 1)).toBe(true);
  } finally {
    child?.kill('SIGKILL');
    await broker.close();
  }
});
