import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import Redis from 'ioredis';
import { createRedisBroker, type Broker, type Envelope } from '@mupets/broker';
import { createLogger, createMetricsRegistry, flushLogs } from '@mupets/cargo';
import { createCollector } from '../src/collector';
import { createPositionStore } from '../src/position-store';
import {
  buildBusyboxImage,
  composeLabels,
  runLooper,
  startDockerd,
  startRedisServer,
  testPrefix,
  TEST_IMAGE,
  waitFor,
  type Dockerd,
  type RedisServer,
} from '@mupets/testkit';
import { shellThenIdle, startCollectorProcess, streamEnvelopes, type CollectorProcess } from './helpers';

let dockerd: Dockerd;
let docker: Docker;
let redisServer: RedisServer;
let redis: Redis;
const collectors: CollectorProcess[] = [];

beforeAll(async () => {
  dockerd = await startDockerd();
  docker = new Docker({ socketPath: dockerd.socketPath });
  await buildBusyboxImage(docker);
  // AOF fsynced on every write: a stopped and restarted server keeps streams and positions
  redisServer = await startRedisServer({ appendOnly: true });
  redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
}, 180_000);

afterAll(async () => {
  await Promise.all(collectors.map((collector) => collector.kill('SIGKILL')));
  redis?.disconnect();
  await redisServer?.destroy();
  await dockerd?.stop();
});

interface Setup {
  project: string;
  prefix: string;
  start(env?: Record<string, string>): Promise<CollectorProcess>;
  /** The records the collector published for one container (by name), in stream order. */
  records(name: string): Promise<Envelope[]>;
  all(): Promise<Envelope[]>;
}

function setup(): Setup {
  const project = `p${randomBytes(4).toString('hex')}`;
  const prefix = testPrefix(`${project}.test.ts`);
  const all = () => streamEnvelopes(redis, `${prefix}logs`);
  return {
    project,
    prefix,
    async start(env = {}) {
      const collector = await startCollectorProcess({
        DOCKER_SOCKET: dockerd.socketPath,
        REDIS_URL: redisServer.url,
        BROKER_KEY_PREFIX: prefix,
        COLLECTOR_POSITION_PREFIX: `${prefix}position:`,
        COLLECTOR_COMPOSE_PROJECT: project,
        ...env,
      });
      collectors.push(collector);
      return collector;
    },
    all,
    async records(name) {
      return (await all()).filter((envelope) => envelope.type === 'container.log' && envelope.source.instance === name);
    },
  };
}

async function run(name: string, labels: Record<string, string>, cmd: string[]): Promise<Docker.Container> {
  const container = await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: cmd,
    Labels: labels,
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
  return container;
}

/** A shell body printing each line as is, to stdout or stderr. */
/** One printf per entry; an entry of several lines (a stack trace) is written at once, as a program writes one. */
function printLines(lines: Array<{ text: string | string[]; stderr?: boolean }>): string {
  const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
  return lines
    .map(({ text, stderr }) => `printf '%s\\n' ${[text].flat().map(quote).join(' ')}${stderr ? ' >&2' : ''}`)
    .join('; ');
}

test('JSON, logfmt, plain and multi-line output: one record each, with the right level, fields and source', async () => {
  const s = setup();
  // a stack trace is written in one go, as programs write them: written line by line by the test's
  // shell, its lines came over a second apart on a loaded CI machine, and a wait that runs out
  // closes a record by design (the wait is a second here)
  const collector = await s.start({ COLLECTOR_MULTILINE_WAIT_MS: '1000' });
  const name = `fmt-${s.project}`;
  const container = await run(
    name,
    composeLabels(s.project, 'fmtsvc'),
    shellThenIdle(
      printLines([
        { text: '{"level":50,"time":1796178026123,"pid":1,"msg":"pino failed","status":500}' },
        { text: 'level=warn msg="disk almost full" used=0.93' },
        { text: '1:M 02 Dec 2026 02:20:26.123 # WARNING overcommit_memory is set to 0' },
        { text: 'plain hello' },
        {
          text: [
            'Exception in thread "main" java.lang.IllegalStateException: boom',
            '\tat com.example.Main.run(Main.java:10)',
            '\tat com.example.Main.main(Main.java:3)',
            'Caused by: java.io.IOException: disk',
            '\t... 2 more',
          ],
          stderr: true,
        },
        {
          text: [
            'Traceback (most recent call last):',
            '  File "/app/worker.py", line 3, in <module>',
            '    main()',
            'ValueError: bad input',
          ],
          stderr: true,
        },
        { text: 'done marker' },
      ]),
    ),
  );
  // neither an opted-out container nor one of another project is collected
  await run(
    `optout-${s.project}`,
    { ...composeLabels(s.project, 'quiet'), 'mupets.collect': 'false' },
    shellThenIdle(printLines([{ text: 'must not be collected' }])),
  );
  await run(
    `other-${s.project}`,
    composeLabels(`${s.project}x`, 'other'),
    shellThenIdle(printLines([{ text: 'must not be collected' }])),
  );

  // Docker copies stdout and stderr separately: their lines interleave in arrival order, each stream in order
  const found = await waitFor(
    async () => {
      const all = await s.records(name);
      return all.length >= 7 ? all : undefined;
    },
    { timeoutMs: 30_000, what: 'seven records' },
  );
  const summary = (stream: string) =>
    found
      .filter((record) => (record.data?.docker as { stream?: string } | undefined)?.stream === stream)
      .map((record) => [record.level, (record.message ?? '').split('\n')[0]]);
  expect(summary('stdout')).toEqual([
    ['error', 'pino failed'],
    ['warn', 'disk almost full'],
    ['warn', '1:M 02 Dec 2026 02:20:26.123 # WARNING overcommit_memory is set to 0'],
    ['info', 'plain hello'],
    ['info', 'done marker'],
  ]);
  expect(summary('stderr')).toEqual([
    ['error', 'Exception in thread "main" java.lang.IllegalStateException: boom'],
    ['error', 'Traceback (most recent call last):'],
  ]);
  expect(found).toHaveLength(7);
  const records = found;
  const pino = records.find((record) => record.message === 'pino failed');
  const logfmt = records.find((record) => record.message === 'disk almost full');
  const java = records.find((record) => record.message?.startsWith('Exception in thread'));
  const python = records.find((record) => record.message?.startsWith('Traceback'));
  expect(pino!.data).toEqual({
    pid: 1,
    status: 500,
    docker: { containerId: container.id, image: TEST_IMAGE, stream: 'stdout' },
  });
  expect(pino!.ts).toBe('2026-12-02T02:20:26.123Z');
  expect(logfmt!.data).toMatchObject({ used: 0.93 });
  expect(java!.message!.split('\n')).toHaveLength(5);
  expect(java!.data).toMatchObject({ lines: 5, docker: { stream: 'stderr' } });
  expect(python!.message!.split('\n').at(-1)).toBe('ValueError: bad input');
  expect(python!.data).toMatchObject({ lines: 4 });
  for (const record of records) {
    expect(record).toMatchObject({
      channel: 'logs',
      type: 'container.log',
      source: { service: 'fmtsvc', instance: name, host: 'test-node' },
    });
  }
  const everything = await s.all();
  expect(everything.filter((envelope) => envelope.message === 'must not be collected')).toEqual([]);
  await collector.kill('SIGTERM');
});

test('SIGKILLed mid 20k-line burst and restarted: every line exactly once', async () => {
  const s = setup();
  const total = 20_000;
  let collector = await s.start();
  const name = `burst-${s.project}`;
  await run(
    name,
    composeLabels(s.project, 'burst'),
    shellThenIdle(`i=0; while [ $i -lt ${total} ]; do i=$((i+1)); echo "burst $i"; done`),
  );
  const key = `${s.prefix}logs`;
  await waitFor(async () => (await redis.xlen(key)) >= 1000, {
    timeoutMs: 30_000,
    intervalMs: 5,
    what: 'a first part published',
  });
  await collector.kill('SIGKILL');
  const atKill = await redis.xlen(key);
  // the kill must land mid-burst, or this test would prove nothing
  expect(atKill).toBeLessThan(total);

  collector = await s.start();
  const records = await waitFor(
    async () => {
      const found = await s.records(name);
      return found.some((record) => record.message === `burst ${total}`) ? found : undefined;
    },
    { timeoutMs: 60_000, what: 'the last line of the burst' },
  );
  expect(records).toHaveLength(total);
  expect(new Set(records.map((record) => record.id)).size).toBe(total);
  expect(records.map((record) => record.message)).toEqual(Array.from({ length: total }, (_, i) => `burst ${i + 1}`));
  await collector.kill('SIGTERM');
});

test('a restarted container continues, a removed one is forgotten; nothing doubled', async () => {
  const s = setup();
  const collector = await s.start();
  const name = `looper-${s.project}`;
  const container = await runLooper(docker, { name, labels: composeLabels(s.project, 'looper') });
  const has = async (message: string, times: number) =>
    (await s.records(name)).filter((record) => record.message === message).length >= times;
  await waitFor(() => has(`${name} out 3`, 1), { timeoutMs: 30_000, what: 'first run' });
  await container.restart({ t: 5 });
  await waitFor(() => has(`${name} out 3`, 2), { timeoutMs: 30_000, what: 'second run' });
  await container.remove({ force: true });
  await waitFor(async () => (await redis.exists(`${s.prefix}position:${container.id}`)) === 0, {
    timeoutMs: 30_000,
    what: 'the removed container’s position deleted',
  });
  const records = await s.records(name);
  expect(new Set(records.map((record) => record.id)).size).toBe(records.length);
  expect(new Set(records.map((record) => `${record.message}@${record.ts}`)).size).toBe(records.length);
  for (const stream of ['out', 'err']) {
    expect(records.filter((record) => record.message === `${name} ${stream} 1`)).toHaveLength(2);
    expect(records.filter((record) => record.message === `${name} ${stream} 2`)).toHaveLength(2);
  }
  expect(records.find((record) => record.message === `${name} err 1`)).toMatchObject({
    data: { docker: { stream: 'stderr', containerId: container.id } },
  });
  await collector.kill('SIGTERM');
});

test('broker outage: not ready while Redis is down, then resumes from its positions without gap or double', async () => {
  const s = setup();
  const collector = await s.start();
  const name = `outage-${s.project}`;
  const container = await runLooper(docker, { name, labels: composeLabels(s.project, 'outage') });
  const outCount = async () =>
    (await s.records(name)).filter((record) => (record.message ?? '').startsWith(`${name} out `)).length;
  await waitFor(async () => (await outCount()) >= 3, { timeoutMs: 30_000, what: 'lines before the outage' });

  await redisServer.stop();
  await waitFor(async () => !(await collector.ready()), { timeoutMs: 30_000, what: 'readiness false' });
  // the container goes on printing while the broker is down: about 30 lines
  const printed = async () => {
    const logs = await container.logs({ stdout: true, stderr: false, tail: 1 });
    return Number(/out (\d+)/.exec(logs.toString('utf8'))?.[1] ?? 0);
  };
  const before = await printed();
  await waitFor(async () => (await printed()) >= before + 30, { timeoutMs: 30_000, what: 'lines during the outage' });
  const duringOutage = await printed();
  await redisServer.start();
  await waitFor(() => collector.ready(), { timeoutMs: 60_000, what: 'readiness back' });
  await waitFor(async () => (await outCount()) >= duringOutage, { timeoutMs: 60_000, what: 'the backlog published' });

  const records = (await s.records(name)).filter((record) => (record.message ?? '').startsWith(`${name} out `));
  const numberOf = (record: Envelope): number => Number((record.message ?? '').slice(`${name} out `.length));
  // Redis was SIGKILLed mid-publish: a batch stored just before the kill, whose reply was lost, is
  // sent again by the broker under the same envelope ids (its documented at-least-once, see
  // broker-restart.test.ts), and the archive's unique id keeps one. What the collector promises is
  // per line: one id, never two, and no line missing.
  const idsByNumber = new Map<number, Set<string>>();
  for (const record of records) {
    idsByNumber.set(numberOf(record), (idsByNumber.get(numberOf(record)) ?? new Set()).add(record.id));
  }
  const archived = [...new Map(records.map((record) => [record.id, numberOf(record)])).values()];
  expect(archived.slice(0, duringOutage)).toEqual(Array.from({ length: duringOutage }, (_, i) => i + 1));
  expect([...idsByNumber.values()].filter((ids) => ids.size !== 1)).toEqual([]);
  expect(collector.output()).toMatch(/reading paused/);
  await container.remove({ force: true });
  await collector.kill('SIGTERM');
});

test('a cargo service’s lines: republished under the transport’s ids; those its transport never sent, too', async () => {
  const s = setup();
  const broker: Broker = createRedisBroker({ url: redisServer.url, keyPrefix: s.prefix });
  const stdout: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      stdout.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  // a real cargo logger: its transport publishes to the broker, its stdout lines become the container's output
  const logger = createLogger({ service: 'shop', stream: sink, broker });
  for (let i = 1; i <= 5; i++) {
    logger.info('order placed', { order: i });
  }
  logger.warn('stock low', { sku: 'x' });
  expect(await flushLogs(logger, 5000)).toBe(true);
  // a service whose transport had not flushed when it crashed: its last lines are on stdout only
  const crashing = createLogger({
    service: 'shop',
    stream: sink,
    broker: { publish: (() => new Promise(() => undefined)) as unknown as Broker['publish'] },
  });
  crashing.error('about to crash', { reason: 'oom' });
  await broker.close();
  const transportIds = (await s.all()).map((envelope) => envelope.id);
  expect(transportIds).toHaveLength(6);
  const printedIds = stdout.map((line) => (JSON.parse(line) as { envelopeId: string }).envelopeId);
  expect(printedIds.slice(0, 6)).toEqual(transportIds);

  const collector = await s.start();
  const name = `cargo-${s.project}`;
  await run(name, composeLabels(s.project, 'shop'), shellThenIdle(printLines(stdout.map((text) => ({ text })))));
  const records = await waitFor(
    async () => {
      const found = await s.records(name);
      return found.length >= 7 ? found : undefined;
    },
    { timeoutMs: 30_000, what: 'the cargo lines collected' },
  );
  expect(records.map((record) => record.id)).toEqual(printedIds);
  expect(records.map((record) => record.level)).toEqual(['info', 'info', 'info', 'info', 'info', 'warn', 'error']);
  expect(records[0]!.data).toMatchObject({ order: 1, service: 'shop', docker: { stream: 'stdout' } });
  expect(records[0]!.data).not.toHaveProperty('envelopeId');
  // on the channel every transport id twice (transport, collector): the archive's unique id index keeps one
  const all = await s.all();
  for (const id of transportIds) {
    expect(all.filter((envelope) => envelope.id === id)).toHaveLength(2);
  }
  expect(all.filter((envelope) => envelope.id === printedIds[6])).toHaveLength(1);
  await collector.kill('SIGTERM');
});

test('a container printing a burst does not starve a quiet one: their records interleave', async () => {
  const s = setup();
  const collector = await s.start();
  const quiet = `quiet-${s.project}`;
  const noisy = `noisy-${s.project}`;
  const looper = await runLooper(docker, { name: quiet, labels: composeLabels(s.project, 'quiet') });
  await waitFor(async () => (await s.records(quiet)).length > 0, { timeoutMs: 30_000, what: 'the quiet container' });
  const total = 50_000;
  await run(
    noisy,
    composeLabels(s.project, 'noisy'),
    shellThenIdle(`i=0; while [ $i -lt ${total} ]; do i=$((i+1)); echo "noisy $i"; done`),
  );
  const all = await waitFor(
    async () => {
      const found = await s.all();
      return found.some((record) => record.message === `noisy ${total}`) ? found : undefined;
    },
    { timeoutMs: 120_000, what: 'the whole burst' },
  );
  const first = all.findIndex((record) => record.message === 'noisy 1');
  const last = all.findIndex((record) => record.message === `noisy ${total}`);
  // while the burst's backlog was published, the quiet container's new lines went out alongside it
  const quietDuringBurst = all.slice(first, last).filter((record) => record.source.instance === quiet);
  expect(quietDuringBurst.length).toBeGreaterThanOrEqual(5);
  await looper.remove({ force: true });
  await collector.kill('SIGTERM');
});

test('the position store failing at start (its connection not ready yet): every running container is still followed', async () => {
  const s = setup();
  const names = ['one', 'two', 'three'].map((name) => `${name}-${s.project}`);
  for (const name of names) {
    await runLooper(docker, { name, labels: composeLabels(s.project, name.split('-')[0]!) });
  }
  const broker = createRedisBroker({ url: redisServer.url, keyPrefix: s.prefix });
  const real = createPositionStore(redis, `${s.prefix}position:`);
  let failures = 1;
  const collector = createCollector({
    docker,
    broker,
    // ioredis without an offline queue refuses commands until its connection is ready
    positions: {
      ...real,
      async load(containerId) {
        if (failures > 0) {
          failures -= 1;
          throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
        }
        return real.load(containerId);
      },
    },
    logger: createLogger({ service: 'log-collector', stream: new Writable({ write: (_c, _e, done) => done() }) }),
    registry: createMetricsRegistry({ service: 'log-collector' }),
    scope: { kind: 'project', project: s.project },
    host: 'test-node',
    channel: 'logs',
    batchSize: 100,
    maxBufferedPerContainer: 1000,
    multilineWaitMs: 100,
    defaults: { stdout: 'info', stderr: 'warn' },
    minRetryMs: 50,
  });
  try {
    await collector.start();
    for (const name of names) {
      await waitFor(async () => (await s.records(name)).some((record) => record.message === `${name} out 2`), {
        timeoutMs: 30_000,
        what: `${name}'s lines`,
      });
    }
    expect(failures).toBe(0);
  } finally {
    await collector.stop();
    await broker.close();
    for (const name of names) {
      await docker.getContainer(name).remove({ force: true });
    }
  }
});
