import { randomBytes } from 'node:crypto';
import { createBroker, type Broker } from '@mupets/broker';
import { kafkaBrokers, orientDbServerConfig, redisUrl, testDatabase, testPrefix, waitFor } from '@mupets/testkit';
import { deleteStored, mixedMessage, startArchiverProcess, waitForStored, type ArchiverProcess } from './helpers';

const running: ArchiverProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
});

// Kafka topic and group names: letters, digits, . _ -
const backends = [
  { name: 'redis', prefix: () => testPrefix(__filename), env: {} },
  {
    name: 'kafka',
    prefix: () => `t.replay-lost.${randomBytes(4).toString('hex')}.`,
    env: { BROKER: 'kafka', KAFKA_BROKERS: kafkaBrokers() },
  },
] as const;

describe.each(backends)('$name', (backend) => {
  it('records OrientDB lost after they were acked are written again when the archiver starts', async () => {
    const prefix = backend.prefix();
    const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
    const env = { ...backend.env, ARCHIVER_CHANNELS: 'events', ARCHIVER_REPLAY_WINDOW_MS: '60000' };
    const broker: Broker =
      backend.name === 'kafka'
        ? createBroker({ BROKER: 'kafka', KAFKA_BROKERS: kafkaBrokers() }, { prefix })
        : createBroker({ REDIS_URL: redisUrl() }, { prefix });
    try {
      const first = await startArchiverProcess(redisUrl(), prefix, orient, env);
      running.push(first);
      // a Redis group exists from the start; a Kafka group once its members joined (a member joining
      // later rebalances the group and a batch in flight is delivered twice, counted as a duplicate)
      await waitFor(
        async () => {
          const group = (await broker.stats('events')).groups.find((g) => g.name === 'log-archiver');
          return group !== undefined && (backend.name === 'redis' || group.consumers === 2);
        },
        { timeoutMs: 60_000, what: 'the archiver in its group' },
      );
      await broker.publish(
        'events',
        Array.from({ length: 300 }, (_, i) => mixedMessage(i)),
      );
      await waitForStored(orient, 300).catch((error: unknown) => {
        throw new Error(`${String(error)}; archiver output:\n${first.output().slice(-3000)}`);
      });
      await waitFor(
        async () => {
          const group = (await broker.stats('events')).groups.find((g) => g.name === 'log-archiver');
          return group?.pending === 0 && group.lag === 0;
        },
        { timeoutMs: 30_000, what: 'every entry acked' },
      );
      await first.kill('SIGTERM');

      // what a killed OrientDB loses: the last commits, already acked
      const envelopes = (await broker.range('events', { count: 1000 })).map((entry) => entry.envelope.id);
      expect(envelopes).toHaveLength(300);
      await deleteStored(orient, 'events', envelopes.slice(-120));
      await waitForStored(orient, 180);

      const second = await startArchiverProcess(redisUrl(), prefix, orient, env);
      running.push(second);
      await waitForStored(orient, 300).catch((error: unknown) => {
        throw new Error(`${String(error)}; archiver output:\n${second.output().slice(-3000)}`);
      });
      expect(await second.metric('mupets_archiver_restored_total')).toBe(120);
    } finally {
      await broker.close();
    }
  });
});
