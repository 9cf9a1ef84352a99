import { randomBytes } from 'node:crypto';
import { createBroker } from '@mupets/broker';
import { kafkaBrokers, orientDbServerConfig, redisUrl, testDatabase, waitFor } from '@mupets/testkit';
import { mixedMessage, startArchiverProcess, waitForStored, type ArchiverProcess } from './helpers';

const running: ArchiverProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
});

test('KAFKA_PARTITIONS=2: two archivers share the channel, each archiving a part, every message once', async () => {
  const prefix = `t.archiver-partitions.${randomBytes(4).toString('hex')}.`;
  const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
  const env = {
    BROKER: 'kafka',
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_PARTITIONS: '2',
    ARCHIVER_CHANNELS: 'logs',
    ARCHIVER_CONCURRENCY: '1',
  };
  // the first archiver creates the topic, with the partitions its setting names
  for (let i = 0; i < 2; i++) {
    running.push(await startArchiverProcess(redisUrl(), prefix, orient, env));
  }
  const broker = createBroker({ BROKER: 'kafka', KAFKA_BROKERS: kafkaBrokers() }, { prefix });
  try {
    await broker.ready(30_000);
    // both members joined is not enough: until the rebalance that follows completes, the first one
    // holds both partitions and may archive everything (a CI run saw the second archive nothing)
    await waitFor(() => running.every((p) => assignedPartitions(p.output())?.length === 1), {
      timeoutMs: 60_000,
      what: 'one partition assigned to each archiver',
    });
    const total = 4000;
    for (let chunk = 0; chunk < total / 500; chunk++) {
      await broker.publish(
        'logs',
        Array.from({ length: 500 }, (_, i) => mixedMessage(chunk * 500 + i)),
      );
    }
    const ids = await waitForStored(orient, total, 120_000);
    expect(new Set(ids).size).toBe(total);
    // with one partition (the setting ignored) one of them would idle
    const archived = await Promise.all(running.map((p) => p.metric('mupets_archiver_archived_total')));
    for (const count of archived) {
      expect(count).toBeGreaterThan(0);
    }
  } finally {
    await broker.close();
  }
});

/** The partitions of the archiver's latest assignment, from its log; undefined before the first. */
function assignedPartitions(output: string): number[] | undefined {
  let latest: number[] | undefined;
  // complete lines only: the last one may still be being written
  for (const line of output.split('\n').slice(0, -1)) {
    if (line.includes('"kafka partitions assigned"')) {
      latest = (JSON.parse(line) as { partitions: number[] }).partitions;
    }
  }
  return latest;
}
