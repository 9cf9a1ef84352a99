import { resolve } from 'node:path';
import { spawnTs, waitFor } from '@mupets/testkit';
import type { Delivery } from '@mupets/broker';
import { backends, brokerPerFile, message } from './helpers';

describe.each(backends)('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);

  test('entries of a consumer killed mid-batch are reclaimed by another after the idle time; none lost, none handled twice after ack', async () => {
    const ids = await file.broker.publish(
      'jobs',
      Array.from({ length: 300 }, (_, i) => message(i)),
    );

    // a real process that dies with un-acked entries: no chance to clean up
    const child = spawnTs(resolve(__dirname, 'fixtures/dying-consumer.ts'), {
      ...backend.childEnv(file.address),
      KEY_PREFIX: file.prefix,
      CHANNEL: 'jobs',
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise((done) => child.once('exit', done));
    const acked = JSON.parse(
      (await waitFor(() => /ACKED (.*)\n/.exec(out), { timeoutMs: 30_000, what: 'first batch acked' }))[1]!,
    ) as string[];
    const held = JSON.parse(
      (await waitFor(() => /HOLDING (.*)\n/.exec(out), { what: 'second batch held' }))[1]!,
    ) as string[];
    child.kill('SIGKILL');
    await exited;
    expect(acked).toEqual(ids.slice(0, 50));
    expect(held).toEqual(ids.slice(50, 100));

    const seen: Delivery[] = [];
    const survivor = file.broker.consume('jobs', 'workers', (batch) => void seen.push(...batch), {
      consumer: 'survivor',
      batchSize: 100,
      blockMs: 50,
      minIdleMs: 500,
      reclaimIntervalMs: 100,
    });
    await waitFor(() => seen.length >= 250, { timeoutMs: 30_000, what: 'the rest of the entries' });
    await waitFor(async () => (await file.broker.stats('jobs')).groups[0]!.pending === 0, {
      what: 'nothing pending',
    });
    await survivor.stop();

    const handled = seen.map((d) => d.id);
    expect(new Set(handled).size).toBe(handled.length); // none twice
    expect(handled.filter((id) => acked.includes(id))).toEqual([]); // acked entries never again
    expect([...acked, ...handled].sort()).toEqual([...ids].sort()); // none lost
    // the held entries came back through the reclaim path, marked as a second delivery
    for (const delivery of seen.filter((d) => held.includes(d.id))) {
      expect(delivery.deliveries).toBe(2);
    }
    expect(seen.filter((d) => held.includes(d.id))).toHaveLength(50);
  });
});
