import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRedisBroker, type Broker, type StreamEntry } from '@mupets/broker';
import { freePort, redisUrl, spawnTs, testPrefix, waitFor } from '@mupets/testkit';

const prefix = testPrefix(__filename);
let broker: Broker;

beforeAll(async () => {
  broker = createRedisBroker({ url: redisUrl(), keyPrefix: prefix });
  await broker.ready(5000);
});

afterAll(async () => {
  await broker.close();
});

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startService(env: Record<string, string>): Run {
  const child = spawnTs(resolve(__dirname, 'fixtures/sample-service.ts'), env);
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function readAll(channel: string): Promise<StreamEntry[]> {
  const tail = broker.tail(channel, { fromId: '0', blockMs: 50 });
  const entries: StreamEntry[] = [];
  const stats = await broker.stats(channel);
  if (stats.length > 0) {
    for await (const entry of tail) {
      entries.push(entry);
      if (entry.id === stats.lastId) {
        break;
      }
    }
  }
  await tail.close();
  return entries;
}

test('an invalid configuration stops the service with every problem listed and exit code 1', async () => {
  const run = startService({ REDIS_URL: 'http://nope', SAMPLE_HEALTH_PORT: 'eighty', SAMPLE_KEY_PREFIX: prefix });
  expect(await run.exited).toBe(1);
  const stderr = run.stderr();
  expect(stderr).toMatch(/REDIS_URL: /);
  expect(stderr).toMatch(/SAMPLE_HEALTH_PORT: /);
  expect(stderr).toMatch(/SAMPLE_API_TOKEN: /);
  expect(stderr).not.toMatch(/\n\s+at /); // a list, not a stack trace
});

test('SIGTERM mid-batch: the batch finishes and is acked, logs reach the broker, exit code 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sample-secret-'));
  writeFileSync(join(dir, 'token'), 'tok-s3cret-value\n');
  const port = await freePort();
  const run = startService({
    REDIS_URL: redisUrl(),
    SAMPLE_HEALTH_PORT: String(port),
    SAMPLE_KEY_PREFIX: prefix,
    SAMPLE_API_TOKEN_FILE: join(dir, 'token'),
  });
  try {
    await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        return response?.status === 200;
      },
      { timeoutMs: 30_000, what: 'the service ready' },
    );
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);

    const ids = await broker.publish(
      'jobs',
      Array.from({ length: 5 }, (_, i) => ({ type: 'job', source: { service: 'test' }, data: { i } })),
    );
    await waitFor(() => run.stdout().includes('"batch started"'), { what: 'a batch in flight' });
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);

    const [group] = (await broker.stats('jobs')).groups;
    expect(group).toMatchObject({ name: 'sample', pending: 0, lag: 0 });
    const logs = await readAll('logs');
    const messages = logs.map((entry) => entry.envelope.message);
    expect(messages).toEqual(
      expect.arrayContaining(['service started', 'batch started', 'batch done', 'service stopped']),
    );
    const done = logs.find((entry) => entry.envelope.message === 'batch done');
    expect(done?.envelope).toMatchObject({ type: 'log', level: 'info', source: { service: 'sample' } });
    expect(done?.envelope.data).toMatchObject({ ids });
    // the secret came from a *_FILE and is redacted everywhere it is logged
    expect(run.stdout()).not.toContain('tok-s3cret-value');
    expect(JSON.stringify(logs)).not.toContain('tok-s3cret-value');
  } finally {
    run.child.kill('SIGKILL');
    await run.exited;
  }
});
