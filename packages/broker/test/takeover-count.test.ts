// Takeovers are not failures: an entry whose consumers were replaced again and again before its
// handler could finish (an archiver restarted while OrientDB is down) is not dead-lettered for it.
// Only real handler failures count towards maxDeliveries (issue 14, item 9).
import { resolve } from 'node:path';
import { spawnTs, waitFor } from '@mupets/testkit';
import type { Delivery } from '@mupets/broker';
import { backends, brokerPerFile, message } from './helpers';

const MAX_DELIVERIES = 3;

describe.each(backends.filter((backend) => backend.name === 'redis'))('$name', (backend) => {
  const file = brokerPerFile(__filename, backend);

  test(`taken over ${MAX_DELIVERIES + 2} times by consumers that never finished: not dead-lettered; handled once a handler runs`, async () => {
    const [id] = await file.broker.publish('archive', [message(1)]);
    const deadCount = async () => (await file.broker.stats(file.broker.deadLetterChannel('archive'))).length;

    for (let round = 0; round < MAX_DELIVERIES + 2; round++) {
      const child = spawnTs(resolve(__dirname, 'fixtures/stalling-consumer.ts'), {
        ...backend.childEnv(file.address),
        KEY_PREFIX: file.prefix,
        CHANNEL: 'archive',
        CONSUMER: `replaced-${round}`,
        MAX_DELIVERIES: String(MAX_DELIVERIES),
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise((done) => child.once('exit', done));
      try {
        // each replacement takes the entry over (its handler got it), or, wrongly, dead-letters it
        await waitFor(async () => out.includes(`HOLDING ["${id}"]`) || (await deadCount()) > 0, {
          timeoutMs: 30_000,
          what: `round ${round}: the entry taken over`,
        });
      } finally {
        child.kill('SIGKILL');
        await exited;
      }
      expect(await deadCount()).toBe(0);
    }

    // the dependency is back: a handler that fails twice (real failures), then succeeds
    const attempts: Delivery[] = [];
    const consumer = file.broker.consume(
      'archive',
      'workers',
      (batch) => {
        attempts.push(...batch);
        if (attempts.length < MAX_DELIVERIES) {
          throw new Error('OrientDB not ready yet');
        }
      },
      { consumer: 'recovered', blockMs: 50, minIdleMs: 200, reclaimIntervalMs: 50, maxDeliveries: MAX_DELIVERIES },
    );
    await waitFor(async () => (await file.broker.stats('archive')).groups[0]?.pending === 0, {
      timeoutMs: 30_000,
      what: 'the entry acked',
    });
    await consumer.stop();
    expect(attempts.map((delivery) => delivery.id)).toEqual([id, id, id]);
    expect(await deadCount()).toBe(0);
  });
});
