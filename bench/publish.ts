// bench:publish: how fast @mupets/broker stores envelopes, against the server's own pipelined XADD
// rate measured in the same run. Prints one `name: value` line per figure.
// `npm run bench:publish -- --broker kafka`: the same against a private Kafka, with Kafka's own
// producer performance tool as the baseline (publish-kafka.ts).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { buildEnvelope, createRedisBroker, DEFAULT_MAX_MESSAGE_BYTES, serializeEnvelope } from '@mupets/broker';
import { best, messageFor, NAIVE_TOTAL, publishArrays, publishSingles, seconds, TOTAL, WINDOW } from './publish-common';
import { benchKafka } from './publish-kafka';
import { redisForBench } from './redis-for-bench';

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

/**
 * The prod stack's `service` user (deploy/redis/users.acl: XADD through the publish script on logs
 * and events only), on the bench's key prefix, with a password of its own: what every publish of a
 * cargo service in prod is checked against.
 */
async function createServiceUser(admin: Redis, name: string, password: string): Promise<void> {
  const line = readFileSync(resolve(__dirname, '../deploy/redis/users.acl'), 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('user service '));
  if (!line) {
    throw new Error('deploy/redis/users.acl has no "user service" line');
  }
  const rules = line
    .slice('user service '.length)
    .replace('#@HASH_service@', `>${password}`)
    .replaceAll('@P@', 'bench:');
  await admin.call('ACL', 'SETUSER', name, ...(rules.match(/\([^)]*\)|\S+/g) ?? []));
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

    // the same publishes as the prod `service` ACL user: the cost of Redis checking every XADD
    const password = randomBytes(18).toString('base64url');
    await createServiceUser(admin, 'bench-service', password);
    const asService = createRedisBroker({
      url: redisInfo.url,
      username: 'bench-service',
      password,
      keyPrefix: 'bench:',
      maxBufferedMessages: WINDOW * 2,
    });
    const asDefault = createRedisBroker({ url: redisInfo.url, keyPrefix: 'bench:', maxBufferedMessages: WINDOW * 2 });
    await Promise.all([asService.ready(10_000), asDefault.ready(10_000)]);
    const oursDefaultUser = await best(() => rateOf(admin, 'bench:logs', () => publishSingles(asDefault, 'logs')));
    const oursAcl = await best(() => rateOf(admin, 'bench:logs', () => publishSingles(asService, 'logs')));
    await Promise.all([asService.close(), asDefault.close()]);
    await admin.call('ACL', 'DELUSER', 'bench-service');

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
    console.log(`publish_default_user_msgs_per_s: ${Math.round(oursDefaultUser)}`);
    console.log(`publish_acl_service_user_msgs_per_s: ${Math.round(oursAcl)}`);
    console.log(`ratio_acl_user_vs_default_user: ${(oursAcl / oursDefaultUser).toFixed(2)}`);
    console.log(`publisher_rss_before_mb: ${rssBeforeMb.toFixed(1)}`);
    console.log(`publisher_peak_rss_mb: ${peakRssMb.toFixed(1)}`);
  } finally {
    admin.disconnect();
    await redisInfo.stop();
  }
}

function brokerArgument(argv: readonly string[]): 'redis' | 'kafka' {
  const at = argv.indexOf('--broker');
  const value = at >= 0 ? argv[at + 1] : 'redis';
  if (value !== 'redis' && value !== 'kafka') {
    throw new Error(`--broker must be redis or kafka, got ${JSON.stringify(value)}`);
  }
  return value;
}

Promise.resolve()
  .then(() => (brokerArgument(process.argv.slice(2)) === 'kafka' ? benchKafka() : main()))
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
