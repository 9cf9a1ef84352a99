import Redis from 'ioredis';
import { entryEnvelopeId } from '@mupets/broker';
import { orientDbServerConfig, redisUrl, testDatabase, testPrefix, waitFor } from '@mupets/testkit';
import { startArchiverProcess, storedIds, waitForStored, type ArchiverProcess, type OrientTarget } from './helpers';

const running: ArchiverProcess[] = [];
afterAll(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
});

test('a minimal envelope written by another producer is archived once, under its derived id, whoever reads it', async () => {
  const prefix = testPrefix(__filename);
  const orient: OrientTarget = { ...orientDbServerConfig(), database: testDatabase(__filename) };
  // events only: the archivers' own log lines (on logs) would count as duplicates too
  const env = { ARCHIVER_CHANNELS: 'events' };
  running.push(await startArchiverProcess(redisUrl(), prefix, orient, env));
  const redis = new Redis(redisUrl());
  let streamId: string;
  try {
    streamId = (await redis.xadd(
      `${prefix}events`,
      '*',
      'e',
      JSON.stringify({ type: 'order.created', source: { service: 'py-shop' }, data: { order: 1 } }),
    ))!;
  } finally {
    redis.disconnect();
  }
  const uid = `events/${entryEnvelopeId(`${prefix}events`, streamId)}`;
  expect(await waitForStored(orient, 1)).toEqual([uid]);

  // a second group reads the same entry again, as a redelivery would: the archive keeps one record
  const second = await startArchiverProcess(redisUrl(), prefix, orient, { ...env, ARCHIVER_GROUP: 'second-reader' });
  running.push(second);
  await waitFor(async () => (await second.metric('mupets_archiver_duplicates_total')) === 1, {
    timeoutMs: 60_000,
    what: 'the second reader finding the entry archived already',
  });
  expect(await storedIds(orient)).toEqual([uid]);
});
