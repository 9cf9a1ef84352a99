import { orientDbServerConfig, redisUrl, testDatabase, testPrefix, waitFor } from '@mupets/testkit';
import {
  brokerFor,
  mixedMessage,
  startArchiverProcess,
  storedIds,
  waitForStored,
  type ArchiverProcess,
} from './helpers';

const running: ArchiverProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
});

describe('log-archiver killed while draining a backlog', () => {
  it('SIGKILL mid-drain of 50k, then a restart: exactly 50k records, none twice', async () => {
    const prefix = testPrefix(__filename);
    const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
    const broker = brokerFor(redisUrl(), prefix);
    try {
      // the backlog builds up while no archiver runs
      for (let chunk = 0; chunk < 10; chunk++) {
        await broker.publish(
          'logs',
          Array.from({ length: 5000 }, (_, i) => mixedMessage(chunk * 5000 + i)),
        );
      }
      const first = await startArchiverProcess(redisUrl(), prefix, orient, { ARCHIVER_BATCH_SIZE: '1000' });
      running.push(first);
      let archivedBeforeKill = 0;
      await waitFor(async () => (archivedBeforeKill = (await storedIds(orient)).length) >= 5000, {
        timeoutMs: 60_000,
        intervalMs: 50,
        what: 'a part of the backlog archived',
      });
      expect(await first.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
      const afterKill = (await storedIds(orient)).length;
      expect(afterKill).toBeLessThan(50_000); // killed mid-drain, not after
      const pendingAtKill = (await broker.stats('logs')).groups[0]?.pending ?? 0;

      const second = await startArchiverProcess(redisUrl(), prefix, orient, { ARCHIVER_BATCH_SIZE: '1000' });
      running.push(second);
      const ids = await waitForStored(orient, 50_000, 120_000);
      expect(new Set(ids).size).toBe(50_000);
      await waitFor(async () => (await broker.stats('logs')).groups[0]?.pending === 0, {
        timeoutMs: 30_000,
        what: 'every entry acked',
      });
      // the batch the first one had in flight was taken over, and counted as duplicates if it had committed
      expect(pendingAtKill).toBeGreaterThanOrEqual(0);
      expect(archivedBeforeKill).toBeGreaterThanOrEqual(5000);
    } finally {
      await broker.close();
    }
  });
});
