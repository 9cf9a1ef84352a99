// bench:publish: how fast @mupets/broker stores envelopes, against the server's own pipelined XADD
// rate measured in the same run. Prints one `name: value` line per figure.
import { spawnSync } from 'node:child_process';
import Redis from 'ioredis';
import {
  buildEnvelope,
  createRedisBroker,
  DEFAULT_MAX_MESSAGE_BYTES,
  serializeEnvelope,
  type Broker,
  type MessageInput,
} from '@mupets/broker';
import { redisForBench } from './redis-for-bench';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 200_000);
const NAIVE_TOTAL = Math.min(TOTAL, 20_000);
const WINDOW = 5_000; // single-message publishes kept outstanding, as a busy service would
// this VM is noisy: every rate is the best of a few runs, ours and the baselines alike
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

function messageFor(i: number): MessageInput {
  return { type: 'bench.event', source: { service: 'bench' }, level: 'info', message: 'user signed in', data: { i } };
}

async function seconds(run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function best(run: () => Promise<number>): Promise<number> {
  let top = 0;
  for (let i = 0; i < RUNS; i++) {
    top = Math.max(top, await run());
  }
  return top;
}

/** msgs/s of one run that must leave exactly TOTAL entries in `key`. */
async function rateOf(admin: Redis, key: string, run: () => Promise<void>): Promise<number> {
  await admin.del(key);
  const took = await seconds(run);
  const stored = await admin.xlen(key);
  if (stored !== TOTAL) {
    throw new Error(`${key}: stored ${stored}, expected ${TOTAL}`);
  }
  await admin.del(key);
  return TOTAL / took;
}

async function publishSingles(broker: Broker): Promise<void> {
  // fire-and-check, as a service logging at full speed does; flow control by chunks of 1000, so
  // the harness does not pay an await per message
  const chunks: Array<Promise<string[]>> = [];
  for (let i = 0; i < TOTAL; i += 1000) {
    const chunk: Array<Promise<string>> = [];
    for (let k = i; k < Math.min(i + 1000, TOTAL); k++) {
      chunk.push(broker.publish('single', messageFor(k)));
    }
    chunks.push(Promise.all(chunk));
    if (chunks.length * 1000 >= WINDOW) {
      await chunks.shift();
    }
  }
  await Promise.all(chunks);
}

async function publishArrays(broker: Broker): Promise<void> {
  const outstanding: Array<Promise<string[]>> = [];
  for (let i = 0; i < TOTAL; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, TOTAL - i) }, (_, k) => messageFor(i + k));
    outstanding.push(broker.publish('batched', batch));
    if (outstanding.length === 4) {
      await outstanding.shift();
    }
  }
  await Promise.all(outstanding);
}

function redisBenchmarkXadd(host: string, port: number, payload: string, clients: number): number {
  const args = ['-h', host, '-p', String(port), '-n', String(TOTAL), '-P', '64', '-c', String(clients), '--csv'];
  const result = spawnSync('redis-benchmark', [...args, 'xadd', 'bench:redis-benchmark', '*', 'e', payload], {
    encoding: 'utf8',
  });
  if (result.error || result.status !== 0) {
    throw new Error(`redis-benchmark failed (apt-get install redis-tools): ${result.error?.message ?? result.stderr}`);
  }
  // --csv: a header line, then "<command>","<requests per second>",...
  const rps = /","([\d.]+)","/.exec(result.stdout.trim().split('\n').at(-1) ?? '')?.[1];
  if (!rps) {
    throw new Error(`unexpected redis-benchmark output: ${result.stdout}`);
  }
  return Number(rps);
}

async function main(): Promise<void> {
  const redisInfo = await redisForBench();
  const admin = new Redis(redisInfo.url);
  const sample = JSON.stringify(buildEnvelope('bench', messageFor(123456)));
  console.log(`messages: ${TOTAL}`);
  console.log(`envelope_bytes: ${Buffer.byteLength(sample)}`);
  try {
    // ts-node and the TypeScript compiler live in this process too: the RSS before publishing says how much
    const rssBeforeMb = process.memoryUsage().rss / 1024 / 1024;
    const broker = createRedisBroker({ url: redisInfo.url, keyPrefix: 'bench:', maxBufferedMessages: WINDOW * 2 });
    await broker.ready(10_000);
    const ours = await best(() => rateOf(admin, 'bench:single', () => publishSingles(broker)));
    const oursBatched = await best(() => rateOf(admin, 'bench:batched', () => publishArrays(broker)));
    await broker.close();
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    // naive: one await per XADD, same envelopes
    const naiveRedis = new Redis(redisInfo.url);
    const naiveSeconds = await seconds(async () => {
      for (let i = 0; i < NAIVE_TOTAL; i++) {
        await naiveRedis.xadd('bench:naive', '*', 'e', JSON.stringify(buildEnvelope('naive', messageFor(i))));
      }
    });
    naiveRedis.disconnect();
    await admin.del('bench:naive');

    // what validating and serializing alone cost, no Redis: the ceiling for anything built on them
    const buildRate = await best(async () => {
      let bytes = 0;
      const took = await seconds(() => {
        for (let i = 0; i < TOTAL; i++) {
          bytes += serializeEnvelope(buildEnvelope('single', messageFor(i)), DEFAULT_MAX_MESSAGE_BYTES).length;
        }
        return Promise.resolve();
      });
      return bytes > 0 ? TOTAL / took : 0;
    });

    // the server's own pipelined XADD rate with the same payload: redis-benchmark's default 50
    // clients (the server's capacity), and one client (like our one publishing connection)
    const baseline = await best(() =>
      Promise.resolve().then(() => redisBenchmarkXadd(redisInfo.host, redisInfo.port, sample, 50)),
    );
    const baselineOne = await best(() =>
      Promise.resolve().then(() => redisBenchmarkXadd(redisInfo.host, redisInfo.port, sample, 1)),
    );
    await admin.del('bench:redis-benchmark');

    console.log(`publish_msgs_per_s: ${Math.round(ours)}`);
    console.log(`publish_batched_msgs_per_s: ${Math.round(oursBatched)}`);
    console.log(`naive_await_per_xadd_msgs_per_s: ${Math.round(NAIVE_TOTAL / naiveSeconds)}`);
    console.log(`envelope_build_serialize_only_per_s: ${Math.round(buildRate)}`);
    console.log(`redis_benchmark_xadd_p64_per_s: ${Math.round(baseline)}`);
    console.log(`redis_benchmark_xadd_p64_c1_per_s: ${Math.round(baselineOne)}`);
    console.log(`ratio: ${(ours / baseline).toFixed(2)}`);
    console.log(`ratio_batched: ${(oursBatched / baseline).toFixed(2)}`);
    console.log(`ratio_vs_one_client: ${(ours / baselineOne).toFixed(2)}`);
    console.log(`publisher_rss_before_mb: ${rssBeforeMb.toFixed(1)}`);
    console.log(`publisher_peak_rss_mb: ${peakRssMb.toFixed(1)}`);
  } finally {
    admin.disconnect();
    await redisInfo.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
