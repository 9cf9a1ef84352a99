// bench:archive — the log-archiver draining a backlog into OrientDB, against the best raw batch
// insert of the same records through orientjs (no broker, no dedupe check, no counts) on the same
// server in the same run. Prints one figure per line.
//
//   npm run bench:archive [-- --messages 200000] [-- --rss-only]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { OrientDBClient } from 'orientjs';
import { createArchive } from '@mupets/archive';
import { createRedisBroker, type Envelope, type MessageInput } from '@mupets/broker';
import { freePort, startOrientDbServer, waitFor } from '@mupets/testkit';
import { redisForBench } from './redis-for-bench';

const args = process.argv.slice(2);
const MESSAGES = Number(args[args.indexOf('--messages') + 1] || 0) || 200_000;
const RSS_ONLY = args.includes('--rss-only');
const ROOT = resolve(__dirname, '..');
const SERVICES = ['api', 'billing', 'mailer', 'search', 'auth'];
const LEVELS = ['error', 'warn', 'info', 'info', 'info', 'debug'] as const;

function messageFor(i: number): MessageInput {
  return {
    type: i % 10 === 0 ? 'order.created' : 'log',
    source: { service: SERVICES[i % SERVICES.length]!, instance: `pod-${i % 4}` },
    level: LEVELS[i % LEVELS.length],
    message: `GET /orders/${i} answered 200 in ${i % 250} ms for customer ${i % 9973}`,
    data: { i, route: '/orders/:id', status: 200 },
  };
}

async function seed(url: string, prefix: string): Promise<void> {
  const broker = createRedisBroker({ url, keyPrefix: prefix, maxBufferedMessages: 20_000 });
  try {
    for (let start = 0; start < MESSAGES; start += 10_000) {
      const count = Math.min(10_000, MESSAGES - start);
      await broker.publish(
        'logs',
        Array.from({ length: count }, (_, k) => messageFor(start + k)),
      );
    }
  } finally {
    await broker.close();
  }
}

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

/** Runs the compiled archiver until the group has read and acked everything; returns seconds and peak RSS. */
async function runArchiver(
  redisUrl: string,
  prefix: string,
  orient: { host: string; port: number; password: string },
  database: string,
): Promise<{ seconds: number; peakRssMb: number }> {
  const main = resolve(ROOT, 'images/log-archiver/dist/main.js');
  const child = spawn(process.execPath, [main], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      REDIS_URL: redisUrl,
      BROKER_KEY_PREFIX: prefix,
      ORIENTDB_HOST: orient.host,
      ORIENTDB_PORT: String(orient.port),
      ORIENTDB_PASSWORD: orient.password,
      ORIENTDB_DATABASE: database,
      HEALTH_PORT: String(await freePort()),
      HEALTH_HOST: '127.0.0.1',
      ARCHIVER_CHANNELS: 'logs',
      LOG_LEVEL: 'warn',
      // knobs to try: batch size (entries, bytes), consumers per channel, and Node flags for the archiver alone
      ...pick(process.env, ['ARCHIVER_BATCH_SIZE', 'ARCHIVER_BATCH_BYTES', 'ARCHIVER_CONCURRENCY']),
      // the archiver runs with the heap limit its prod image sets (df.prod.Dockerfile)
      NODE_OPTIONS: process.env.ARCHIVER_NODE_OPTIONS ?? '--max-old-space-size=192',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const broker = createRedisBroker({ url: redisUrl, keyPrefix: prefix });
  await broker.ready(5000);
  let peakRssMb = 0;
  const sampleRss = (): void => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      peakRssMb = Math.max(peakRssMb, Number(hwm?.[1] ?? 0) / 1024);
    } catch {
      // the process is gone
    }
  };
  const started = performance.now();
  try {
    await waitFor(
      async () => {
        sampleRss();
        if (child.exitCode !== null) {
          throw new Error(`log-archiver exited with ${child.exitCode}`);
        }
        const group = (await broker.stats('logs')).groups.find((g) => g.name === 'log-archiver');
        return group !== undefined && group.lag === 0 && group.pending === 0;
      },
      { timeoutMs: 3_600_000, intervalMs: 100, what: 'the backlog drained', failFast: true },
    );
    return { seconds: (performance.now() - started) / 1000, peakRssMb };
  } finally {
    sampleRss();
    child.kill('SIGTERM');
    await new Promise((done) => child.once('exit', done));
    await broker.close();
  }
}

type RawMethod = 'values' | 'content';

/**
 * The same rows inserted with plain orientjs, one transaction per batch: either one multi-row
 * INSERT ... VALUES, or one INSERT ... CONTENT per row. No duplicate check, no counts.
 */
async function rawInsert(
  orient: { host: string; port: number; password: string },
  database: string,
  envelopes: readonly Envelope[],
  batchSize: number,
  method: RawMethod,
  sessions: number,
): Promise<number> {
  const client = await OrientDBClient.connect({ host: orient.host, port: orient.port });
  const credentials = { name: database, username: 'root', password: orient.password };
  const pool = await client.sessions({ ...credentials, pool: { max: sessions } });
  const started = performance.now();
  // `sessions` writers take batches in turn, each in a session of its own, like the archiver's consumers
  await Promise.all(
    Array.from({ length: sessions }, async (_, k) => {
      const session = await pool.acquire();
      for (let start = k * batchSize; start < envelopes.length; start += sessions * batchSize) {
        const { script, params } = rawScript(envelopes.slice(start, start + batchSize), start, method);
        await session.batch(script, { params }).all();
      }
      await session.close();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  await client.close();
  return envelopes.length / seconds;
}

function rawScript(
  envelopes: readonly Envelope[],
  offset: number,
  method: RawMethod,
): { script: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  const rows = envelopes.map((e, r) => {
    const ts = new Date(e.ts);
    const uid = `logs/${e.id}`;
    return { uid, eid: e.id, channel: 'logs', brokerId: `${offset + r}-0`, tk: `${ts.toISOString()}|${uid}`, ts,
      service: e.source.service, instance: e.source.instance ?? null, host: e.source.host ?? null,
      level: e.level ?? null, type: e.type, message: e.message ?? null, data: JSON.stringify(e.data) }; // prettier-ignore
  });
  let statements: string[];
  if (method === 'values') {
    const columns = Object.keys(rows[0]!) as Array<keyof (typeof rows)[number]>;
    const tuples = rows.map(
      (row, r) => `(${columns.map((c, k) => ((params[`v${r}_${k}`] = row[c]), `:v${r}_${k}`)).join(', ')})`,
    );
    statements = [`INSERT INTO Message (${columns.join(', ')}) VALUES ${tuples.join(', ')};`];
  } else {
    statements = rows.map((row, r) => ((params[`r${r}`] = row), `INSERT INTO Message CONTENT :r${r};`));
  }
  return { script: ['BEGIN;', ...statements, 'COMMIT;'].join('\n'), params };
}

/** The first `limit` seeded envelopes, read back from the stream (the archiver's own log lines left out). */
async function readEnvelopes(url: string, prefix: string, limit: number): Promise<Envelope[]> {
  const broker = createRedisBroker({ url, keyPrefix: prefix });
  const out: Envelope[] = [];
  const tail = broker.tail('logs', { fromId: '0-0', count: 5000, blockMs: 100 });
  try {
    for await (const entry of tail) {
      if (entry.envelope.source.service !== 'log-archiver') {
        out.push(entry.envelope);
      }
      if (out.length >= limit) {
        break;
      }
    }
  } finally {
    await tail.close();
    await broker.close();
  }
  return out;
}

async function main(): Promise<void> {
  const redis = await redisForBench();
  const orientServer = await startOrientDbServer({ heap: '2g', diskCacheMb: 2048 });
  const orient = { host: orientServer.host, port: orientServer.port, password: orientServer.password };
  try {
    console.log(`messages: ${MESSAGES}`);
    const prefix = `bench-archive-${Date.now()}:`;
    await seed(redis.url, prefix);
    // the JVM compiles OrientDB's hot paths in the first seconds: warm it before timing either side
    const warmup = createArchive({ ...orient, username: 'root', database: 'bench_warmup' });
    await warmup.bootstrap();
    await warmup.close();
    await rawInsert(
      orient,
      'bench_warmup',
      await readEnvelopes(redis.url, prefix, Math.min(30_000, MESSAGES)),
      500,
      'content',
      1,
    );
    const run = await runArchiver(redis.url, prefix, orient, 'bench_archiver');
    const archiver = MESSAGES / run.seconds;
    console.log(`archive_msgs_per_s: ${Math.round(archiver)}`);
    console.log(`archiver_peak_rss_mb: ${run.peakRssMb.toFixed(1)}`);
    if (RSS_ONLY) {
      return;
    }
    const envelopes = await readEnvelopes(redis.url, prefix, MESSAGES);
    let best = 0;
    const variants: Array<[RawMethod, number, number]> = [
      ['values', 500, 1],
      ['content', 500, 1],
      ['content', 1000, 1],
      ['content', 500, 2],
    ];
    for (const [method, batchSize, sessions] of variants) {
      // an empty database with the same schema for each, like the archiver's
      const database = `bench_raw_${method}_${batchSize}_${sessions}`;
      const raw = createArchive({ ...orient, username: 'root', database });
      await raw.bootstrap();
      await raw.close();
      const rate = await rawInsert(orient, database, envelopes, batchSize, method, sessions);
      console.log(`raw_insert_${method}_batch_${batchSize}_sessions_${sessions}_msgs_per_s: ${Math.round(rate)}`);
      best = Math.max(best, rate);
    }
    console.log(`raw_insert_best_msgs_per_s: ${Math.round(best)}`);
    console.log(`ratio: ${(archiver / best).toFixed(2)}`);
  } finally {
    await orientServer.destroy();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
