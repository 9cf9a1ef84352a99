import { randomBytes } from 'node:crypto';
import { createBroker } from '@mupets/broker';
import { kafkaBrokers, orientDbServerConfig, redisUrl, testDatabase, waitFor } from '@mupets/testkit';
import { mixedMessage, startArchiverProcess, waitForStored, type ArchiverProcess } from './helpers';

let archiver: ArchiverProcess | undefined;
afterAll(async () => {
  await archiver?.kill('SIGKILL');
});

describe('log-archiver on Kafka (BROKER=kafka, the service unchanged)', () => {
  it('archives 10k messages from both channels exactly once', async () => {
    // Kafka topic and group names: letters, digits, . _ -
    const prefix = `t.archiver-kafka.${randomBytes(4).toString('hex')}.`;
    const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
    archiver = await startArchiverProcess(redisUrl(), prefix, orient, {
      BROKER: 'kafka',
      KAFKA_BROKERS: kafkaBrokers(),
      ARCHIVER_BATCH_SIZE: '500',
    });
    const broker = createBroker({ BROKER: 'kafka', KAFKA_BROKERS: kafkaBrokers() }, { prefix });
    try {
      await broker.ready(30_000);
      // publish only once the group is settled (both consumers of each channel joined): a member that
      // joins later rebalances the group, and a batch in flight then is delivered again (at least
      // once; the writer would count it as duplicates), which is not what this test is about
      for (const channel of ['logs', 'events']) {
        await waitFor(
          async () => (await broker.stats(channel)).groups.find((g) => g.name === 'log-archiver')?.consumers === 2,
          { timeoutMs: 60_000, what: `both archiver consumers of ${channel} in the group` },
        );
      }
      for (let chunk = 0; chunk < 10; chunk++) {
        const messages = Array.from({ length: 1000 }, (_, i) => mixedMessage(chunk * 1000 + i));
        await broker.publish(chunk % 3 === 2 ? 'events' : 'logs', messages);
      }
      const ids = await waitForStored(orient, 10_000, 120_000);
      expect(new Set(ids).size).toBe(10_000);
      // everything committed: nothing left for the group on either channel
      for (const channel of ['logs', 'events']) {
        await waitFor(
          async () => {
            const group = (await broker.stats(channel)).groups.find((g) => g.name === 'log-archiver');
            return group !== undefined && group.lag === 0 && group.pending === 0;
          },
          { timeoutMs: 30_000, what: `${channel} fully committed by the group` },
        );
      }
      expect(await archiver.metric('mupets_archiver_duplicates_total')).toBe(0);
      // the replay at start ran on Kafka too (by record timestamps: it once read offsets as
      // milliseconds) and found nothing missing
      expect(archiver.output()).toContain('recent messages checked against the archive');
      expect(await archiver.metric('mupets_archiver_restored_total')).toBe(0);
    } finally {
      await broker.close();
    }
  });
});
