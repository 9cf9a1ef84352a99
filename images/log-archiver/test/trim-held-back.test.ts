import Redis from 'ioredis';
import { orientDbServerConfig, redisUrl, testDatabase, testPrefix, waitFor } from '@mupets/testkit';
import { brokerFor, mixedMessage, startArchiverProcess, waitForStored, type ArchiverProcess } from './helpers';

const running: ArchiverProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
});

test('a retired group holding the trim back is named in the log and a metric; once removed, the stream is trimmed to its bound', async () => {
  const prefix = testPrefix(__filename);
  const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
  const broker = brokerFor(redisUrl(), prefix);
  const redis = new Redis(redisUrl());
  const key = `${prefix}logs`;
  try {
    await broker.publish(
      'logs',
      Array.from({ length: 200 }, (_, i) => mixedMessage(i)),
    );
    // a service that once consumed the channel and is gone: its group never reads again
    await redis.xgroup('CREATE', key, 'retired-service', '0');
    const archiver = await startArchiverProcess(redisUrl(), prefix, orient, {
      ARCHIVER_CHANNELS: 'logs',
      ARCHIVER_STREAM_MAX_LEN: '10',
      ARCHIVER_TRIM_INTERVAL_MS: '1000',
    });
    running.push(archiver);
    await waitForStored(orient, 200);
    await waitFor(async () => (await archiver.metric('mupets_archiver_trim_held_back')) === 1, {
      timeoutMs: 30_000,
      what: 'the held-back metric',
    });
    expect(archiver.output()).toMatch(/"message":"stream trimming held back[^"]*".*"groups":\["retired-service"\]/);
    const metrics = await (await fetch(`http://127.0.0.1:${archiver.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/^mupets_archiver_trim_held_back\{[^}]*group="retired-service"[^}]*\} 1$/m);
    expect(await redis.xlen(key)).toBeGreaterThanOrEqual(200);

    await redis.xgroup('DESTROY', key, 'retired-service');
    await waitFor(async () => (await redis.xlen(key)) <= 10, { timeoutMs: 30_000, what: 'the stream trimmed' });
    await waitFor(() => archiver.output().includes('stream trimming no longer held back'), {
      timeoutMs: 30_000,
      what: 'the log saying so',
    });
    expect(await archiver.metric('mupets_archiver_trim_held_back')).toBe(0);
    // counted, not logged: a log line per trim lands in the trimmed stream and asks for the next
    // trim, so a stream at its bound never got there and the archive filled with "stream trimmed"
    expect(await archiver.metric('mupets_archiver_trimmed_total')).toBeGreaterThanOrEqual(190);
    expect(archiver.output()).not.toContain('"message":"stream trimmed"');
  } finally {
    redis.disconnect();
    await broker.close();
  }
});
