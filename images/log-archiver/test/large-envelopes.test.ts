import { randomBytes } from 'node:crypto';
import { orientDbServerConfig, redisUrl, testDatabase, testPrefix, waitFor } from '@mupets/testkit';
import { brokerFor, startArchiverProcess, storedIds, type ArchiverProcess } from './helpers';

const running: ArchiverProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.kill('SIGKILL')));
});

// the prod image's heap limit (images/log-archiver/df.prod.Dockerfile); here the process also holds
// ts-node, so it has less room than in the image
const PROD_HEAP = '--max-old-space-size=192';
const COUNT = 2400;
const MESSAGE_CHARS = 60_000;

test('a backlog of 60 KB envelopes under the prod heap limit: each archived once, none dead-lettered, no crash', async () => {
  const prefix = testPrefix(__filename);
  const orient = { ...orientDbServerConfig(), database: testDatabase(__filename) };
  const broker = brokerFor(redisUrl(), prefix);
  try {
    // near the broker's 64 KiB envelope limit; random text, so nothing is shared between them
    for (let chunk = 0; chunk < COUNT / 100; chunk++) {
      await broker.publish(
        'logs',
        Array.from({ length: 100 }, (_, i) => ({
          type: 'log',
          source: { service: 'big' },
          level: 'info' as const,
          message: `${chunk * 100 + i} ${randomBytes(MESSAGE_CHARS / 2).toString('hex')}`.slice(0, MESSAGE_CHARS),
        })),
      );
    }
    // four consumers of 500-entry batches: 2000 entries, about 120 MB of text, read at once
    const archiver = await startArchiverProcess(redisUrl(), prefix, orient, {
      NODE_OPTIONS: PROD_HEAP,
      ARCHIVER_BATCH_SIZE: '500',
      ARCHIVER_CONCURRENCY: '4',
    });
    running.push(archiver);
    const died = (): boolean => archiver.proc.exitCode !== null || archiver.proc.signalCode !== null;
    let stored = 0;
    await waitFor(
      async () => {
        stored = died() ? stored : (await storedIds(orient)).length;
        if (died()) {
          const fatal =
            archiver.output().match(/FATAL ERROR.*|heap out of memory.*/)?.[0] ?? archiver.output().slice(-500);
          throw new Error(`the archiver died after ${stored} records: ${fatal}`);
        }
        return stored === COUNT;
      },
      { timeoutMs: 240_000, intervalMs: 1000, what: `${COUNT} large records archived`, failFast: true },
    );
    expect(new Set(await storedIds(orient)).size).toBe(COUNT);
    expect((await broker.stats('logs.dead')).length).toBe(0);
    expect(archiver.output()).not.toMatch(/heap out of memory|dead-letter/i);
    await archiver.kill('SIGTERM');
  } finally {
    await broker.close();
  }
}, 300_000);
