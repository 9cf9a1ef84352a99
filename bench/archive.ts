// bench:archive — the log-archiver draining a backlog into OrientDB, against a raw batch insert of
// the same records through orientjs (no broker, no dedupe check, no counts; one INSERT ... CONTENT
// per row, 500 rows per transaction, two sessions: the best of the raw shapes measured earlier) on
// the same server in the same run. The two alternate for `--rounds` rounds, each on a fresh backlog
// and fresh databases, so a slow phase of the machine (or of OrientDB's JVM) falls on both; the
// figures are medians over the rounds, the ratio's spread is printed beside it. Two figures say what
// the gap is made of: the archive's own write (archive.write, two writers, no broker) and raw rows
// whose `data` is an embedded document as the archive stores it. Prints one figure per line.
//
//   npm run bench:archive [-- --messages 100000] [-- --rounds 3] [-- --rss-only]
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
const MESSAGES = Number(args[args.indexOf('--messages') + 1] || 0) || 100_000;
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 0) || 3;
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

type RawMethod = 'values' | 'content' | 'content-embedded';

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
      level: e.level ?? null, type: e.type, message: e.message ?? null,
      data: method === 'content-embedded' ? e.data : JSON.stringify(e.data) }; // prettier-ignore
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

/** The archive's own write path without the broker: `writers` writers taking batches in turn. */
async function directWrite(
  orient: { host: string; port: number; password: string },
  database: string,
  envelopes: readonly Envelope[],
  batchSize: number,
  writers: number,
): Promise<number> {
  const archive = createArchive({ ...orient, username: 'root', database });
  await archive.bootstrap();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, k) => {
      for (let start = k * batchSize; start < envelopes.length; start += writers * batchSize) {
        const batch = envelopes.slice(start, start + batchSize).map((envelope, r) => ({
          brokerId: `${start + r + 1}-0`,
          channel: 'logs',
          envelope,
        }));
        await archive.write(batch, `w${k}`);
      }
    }),
  );
  const rate = envelopes.length / ((performance.now() - started) / 1000);
  await archive.close();
  return rate;
}

/** A database with the archive's schema and nothing in it. */
async function emptyDatabase(
  orient: { host: string; port: number; password: string },
  database: string,
): Promise<void> {
  const archive = createArchive({ ...orient, username: 'root', database });
  await archive.bootstrap();
  await archive.close();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const redis = await redisForBench();
  const orientServer = await startOrientDbServer({ heap: '2g', diskCacheMb: 2048 });
  const orient = { host: orientServer.host, port: orientServer.port, password: orientServer.password };
  const archiverRates: number[] = [];
  const rawRates: number[] = [];
  const ratios: number[] = [];
  const directRates: number[] = [];
  const embeddedRates: number[] = [];
  let peakRssMb = 0;
  try {
    console.log(`messages: ${MESSAGES}`);
    console.log(`rounds: ${ROUNDS}`);
    // the JVM compiles OrientDB's hot paths in the first seconds: warm it before timing either side
    const warmPrefix = `bench-archive-warm-${Date.now()}:`;
    await seed(redis.url, warmPrefix);
    await emptyDatabase(orient, 'bench_warmup');
    const warm = await readEnvelopes(redis.url, warmPrefix, Math.min(30_000, MESSAGES));
    await rawInsert(orient, 'bench_warmup', warm, 500, 'content', 1);
    for (let round = 1; round <= ROUNDS; round++) {
      // a fresh backlog and fresh databases each round: every run starts from the same state
      const prefix = `bench-archive-${Date.now()}-${round}:`;
      await seed(redis.url, prefix);
      const envelopes = await readEnvelopes(redis.url, prefix, MESSAGES);
      const run = await runArchiver(redis.url, prefix, orient, `bench_archiver_${round}`);
      const archiver = MESSAGES / run.seconds;
      peakRssMb = Math.max(peakRssMb, run.peakRssMb);
      archiverRates.push(archiver);
      if (RSS_ONLY) {
        continue;
      }
      await emptyDatabase(orient, `bench_raw_${round}`);
      const raw = await rawInsert(orient, `bench_raw_${round}`, envelopes, 500, 'content', 2);
      rawRates.push(raw);
      ratios.push(archiver / raw);
      directRates.push(await directWrite(orient, `bench_direct_${round}`, envelopes, 500, 2));
      await emptyDatabase(orient, `bench_embedded_${round}`);
      embeddedRates.push(await rawInsert(orient, `bench_embedded_${round}`, envelopes, 500, 'content-embedded', 2));
    }
    console.log(`archive_msgs_per_s: ${Math.round(median(archiverRates))}`);
    console.log(`archiver_peak_rss_mb: ${peakRssMb.toFixed(1)}`);
    if (RSS_ONLY) {
      return;
    }
    console.log(`archive_write_direct_msgs_per_s: ${Math.round(median(directRates))}`);
    console.log(`raw_insert_embedded_data_msgs_per_s: ${Math.round(median(embeddedRates))}`);
    console.log(`raw_insert_msgs_per_s: ${Math.round(median(rawRates))}`);
    console.log(`ratio: ${median(ratios).toFixed(2)}`);
    console.log(`ratio_min: ${Math.min(...ratios).toFixed(2)}`);
    console.log(`ratio_max: ${Math.max(...ratios).toFixed(2)}`);
  } finally {
    await orientServer.destroy();
    await redis.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
