import { redisUrl, startOrientDbServer, testPrefix, waitFor, type OrientDbServer } from '@mupets/testkit';
import {
  brokerFor,
  mixedMessage,
  startArchiverProcess,
  storedIds,
  waitForStored,
  type ArchiverProcess,
  type OrientTarget,
} from './helpers';

let server: OrientDbServer | undefined;
let archiver: ArchiverProcess | undefined;
let orient: OrientTarget;
afterAll(async () => {
  await archiver?.kill('SIGKILL');
  await server?.destroy();
});

describe('log-archiver while OrientDB is down', () => {
  it('keeps the backlog in the stream, readiness goes false and back, then archives everything', async () => {
    server = await startOrientDbServer();
    orient = {
      host: server.host,
      port: server.port,
      username: server.username,
      password: server.password,
      database: 'outage',
    };
    const prefix = testPrefix(__filename);
    archiver = await startArchiverProcess(redisUrl(), prefix, orient, { ARCHIVER_BATCH_SIZE: '200' });
    const broker = brokerFor(redisUrl(), prefix);
    let published = 0;
    const publishFor = async (ms: number): Promise<void> => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        await broker.publish(
          'logs',
          Array.from({ length: 50 }, (_, i) => mixedMessage(published + i)),
        );
        published += 50;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    try {
      await publishFor(2000);
      await server.stop('SIGKILL');
      const readiness: boolean[] = [];
      const down = performance.now();
      // ~20 s without OrientDB while messages keep arriving
      while (performance.now() - down < 20_000) {
        await publishFor(1000);
        readiness.push(await archiver.ready());
      }
      expect(readiness.filter((ready) => !ready).length).toBeGreaterThan(readiness.length / 2);
      expect(archiver.proc.exitCode).toBeNull();
      const pendingOrUnread = (await broker.stats('logs')).groups[0];
      expect((pendingOrUnread?.pending ?? 0) + (pendingOrUnread?.lag ?? 0)).toBeGreaterThan(0);

      await server.start();
      await publishFor(2000);
      await waitFor(() => archiver!.ready(), { timeoutMs: 60_000, what: 'readiness back to true' });
      const ids = await waitForStored(orient, published, 90_000);
      expect(new Set(ids).size).toBe(published);
      expect(archiver.output()).toMatch(/archive unreachable/);
      expect(archiver.output()).toMatch(/archive reachable again/);
    } catch (error) {
      // the archiver's own account of the outage helps more than a timeout
      const stored = await storedIds(orient).then(
        (ids) => ids.length,
        (e: Error) => e.message,
      );
      const stats = JSON.stringify({
        stream: await broker.stats('logs'),
        archived: await archiver.metric('mupets_archiver_archived_total'),
        duplicates: await archiver.metric('mupets_archiver_duplicates_total'),
        failures: await archiver.metric('mupets_archiver_write_failures_total'),
      });
      throw new Error(
        `${(error as Error).message}\nstored ${stored} of ${published}; stream ${stats}\n` +
          `--- log-archiver output ---\n${archiver.output().slice(-6000)}`,
        { cause: error },
      );
    } finally {
      await broker.close();
    }
  }, 240_000);
});
