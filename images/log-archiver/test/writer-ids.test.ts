import { OrientDBClient } from 'orientjs';
import { orientDbServerConfig, redisUrl, testDatabase, testPrefix } from '@mupets/testkit';
import {
  brokerFor,
  mixedMessage,
  startArchiverProcess,
  waitForStored,
  type ArchiverProcess,
  type OrientTarget,
} from './helpers';

const running: ArchiverProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
});

/**
 * The writer ids of the per-minute count rows, read with a plain query; and their number counted
 * by the query scripts/e2e-docker.sh runs against the prod stack's restarted archiver.
 */
async function countWriters(orient: OrientTarget): Promise<{ ids: string[]; n: number }> {
  const client = await OrientDBClient.connect({ host: orient.host, port: orient.port });
  try {
    const pool = await client.sessions({ ...orient, name: orient.database, pool: { max: 1 } });
    const session = await pool.acquire();
    const rows = await session.query<{ writer: string }>('SELECT DISTINCT(writer) AS writer FROM MessageCount').all();
    const [counted] = await session
      .query<{ n: number }>(
        "select count(*) as n from (select distinct(writer) from MessageCount where writer not in ['replay', 'retention'])",
      )
      .all();
    await session.close();
    await pool.close();
    return { ids: rows.map((row) => row.writer).sort(), n: Number(counted?.n) };
  } finally {
    await client.close();
  }
}

test('an archiver restarted, even after SIGKILL, keeps its writer ids: restarts do not add count rows', async () => {
  const prefix = testPrefix(__filename);
  const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
  const broker = brokerFor(redisUrl(), prefix);
  const env = { ARCHIVER_CHANNELS: 'events', ARCHIVER_CONCURRENCY: '1' };
  try {
    for (let run = 0; run < 3; run++) {
      const archiver = await startArchiverProcess(redisUrl(), prefix, orient, env);
      running.push(archiver);
      await broker.publish(
        'events',
        Array.from({ length: 50 }, (_, i) => mixedMessage(run * 50 + i)),
      );
      await waitForStored(orient, (run + 1) * 50);
      await archiver.kill('SIGKILL');
    }
    // one consumer, so one writer, however often it restarted (a random id per start made three)
    const writers = await countWriters(orient);
    expect(writers.ids).toHaveLength(1);
    expect(writers.n).toBe(1);
  } finally {
    await broker.close();
  }
});
