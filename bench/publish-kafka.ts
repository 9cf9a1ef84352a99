// bench:publish --broker kafka: how fast @mupets/broker stores envelopes on Kafka (acks=all,
// idempotent producer), against Kafka's own producer performance tool (ProducerPerformance from
// kafka-tools, run on the cached jars) with the same record size, acks and idempotence, against the
// same broker, in the same run. The tool runs twice: with batches as large as our requests (1 MB,
// the like-for-like baseline of `ratio`), and with its default 16 KiB batches. Prints one
// `name: value` line per figure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, ListOffsetTimestamps } from '@platformatic/kafka';
import { buildEnvelope, createKafkaBroker, type Broker } from '@mupets/broker';
import { assertKafkaInstalled, startKafkaServer } from '@mupets/testkit';
import { best, messageFor, publishArrays, publishSingles, seconds, TOTAL } from './publish-common';

const TOPIC_PREFIX = 'bench.';

/** The Kafka a benchmark measures: KAFKA_BROKERS when set, else a private single-node Kafka. */
async function kafkaForBench(): Promise<{ brokers: string; stop(): Promise<void> }> {
  const given = process.env.KAFKA_BROKERS;
  if (given) {
    return { brokers: given, stop: () => Promise.resolve() };
  }
  const server = await startKafkaServer({ heap: '1g' });
  return { brokers: server.brokers, stop: () => server.destroy() };
}

let topicCount = 0;

/** A new one-partition topic, created before the clock starts (topic creation is not publishing). */
async function freshTopic(admin: Admin, name: string): Promise<string> {
  const topic = `${name}-${process.pid}-${topicCount++}`;
  await admin.createTopics({ topics: [`${TOPIC_PREFIX}${topic}`], partitions: 1, replicas: -1 });
  return topic;
}

async function storedIn(admin: Admin, topic: string): Promise<number> {
  const at = async (timestamp: bigint): Promise<bigint> => {
    const [found] = await admin.listOffsets({
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
    });
    return found!.partitions[0]!.offset;
  };
  return Number((await at(ListOffsetTimestamps.LATEST)) - (await at(ListOffsetTimestamps.EARLIEST)));
}

/** msgs/s of one run on a fresh channel, which must then hold exactly TOTAL entries. */
async function rateOf(admin: Admin, name: string, run: (channel: string) => Promise<void>): Promise<number> {
  const channel = await freshTopic(admin, name);
  const took = await seconds(() => run(channel));
  const stored = await storedIn(admin, `${TOPIC_PREFIX}${channel}`);
  if (stored !== TOTAL) {
    throw new Error(`${channel}: stored ${stored}, expected ${TOTAL}`);
  }
  return TOTAL / took;
}

/** Kafka's ProducerPerformance: TOTAL records of `recordBytes`, as fast as it goes; its records/s. */
async function producerPerformance(
  admin: Admin,
  libs: string,
  brokers: string,
  recordBytes: number,
  extraProps: readonly string[],
): Promise<number> {
  const topic = `${TOPIC_PREFIX}${await freshTopic(admin, 'producer-perf')}`;
  const dir = mkdtempSync(join(tmpdir(), 'mupets-bench-'));
  try {
    const log4j = join(dir, 'log4j2.properties');
    writeFileSync(log4j, 'rootLogger.level = error\n');
    const result = spawnSync(
      'java',
      [
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        join(libs, '*'),
        'org.apache.kafka.tools.ProducerPerformance',
        '--topic', topic,
        '--num-records', String(TOTAL),
        '--record-size', String(recordBytes),
        '--throughput', '-1',
        '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all', 'enable.idempotence=true', ...extraProps,
      ], // prettier-ignore
      { encoding: 'utf8', timeout: 600_000 },
    );
    if (result.error || result.status !== 0) {
      throw new Error(`ProducerPerformance failed: ${result.error?.message ?? result.stderr}`);
    }
    // its last line: "200000 records sent, 123456.7 records/sec (25.4 MB/sec), ... ms avg latency, ..."
    const rate = /records sent, ([\d.]+) records\/sec/.exec(result.stdout.trim().split('\n').at(-1) ?? '')?.[1];
    if (!rate) {
      throw new Error(`unexpected ProducerPerformance output: ${result.stdout}`);
    }
    const stored = await storedIn(admin, topic);
    if (stored !== TOTAL) {
      throw new Error(`${topic}: ProducerPerformance stored ${stored}, expected ${TOTAL}`);
    }
    return Number(rate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchKafka(): Promise<void> {
  const libs = assertKafkaInstalled();
  const kafka = await kafkaForBench();
  const admin = new Admin({ clientId: 'bench-admin', bootstrapBrokers: kafka.brokers.split(',') });
  const sample = JSON.stringify(buildEnvelope('bench', messageFor(123456)));
  const recordBytes = Buffer.byteLength(sample);
  console.log('broker: kafka');
  console.log(`messages: ${TOTAL}`);
  console.log(`envelope_bytes: ${recordBytes}`);
  let broker: Broker | undefined;
  try {
    const rssBeforeMb = process.memoryUsage().rss / 1024 / 1024;
    broker = createKafkaBroker({ brokers: kafka.brokers, topicPrefix: TOPIC_PREFIX, maxBufferedMessages: 10_000 });
    await broker.ready(10_000);
    const ready = broker;
    const ours = await best(() => rateOf(admin, 'single', (channel) => publishSingles(ready, channel)));
    const oursBatched = await best(() => rateOf(admin, 'batched', (channel) => publishArrays(ready, channel)));
    await broker.close();
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    // our requests carry up to 1 MB: the tool with batches that large is the like-for-like baseline
    const theirs = await best(() =>
      producerPerformance(admin, libs, kafka.brokers, recordBytes, ['batch.size=1000000']),
    );
    const theirsDefault = await best(() => producerPerformance(admin, libs, kafka.brokers, recordBytes, []));

    console.log(`publish_msgs_per_s: ${Math.round(ours)}`);
    console.log(`publish_batched_msgs_per_s: ${Math.round(oursBatched)}`);
    console.log(`kafka_producer_perf_msgs_per_s: ${Math.round(theirs)}`);
    console.log(`kafka_producer_perf_default_batch_msgs_per_s: ${Math.round(theirsDefault)}`);
    console.log(`ratio: ${(ours / theirs).toFixed(2)}`);
    console.log(`ratio_batched: ${(oursBatched / theirs).toFixed(2)}`);
    console.log(`ratio_vs_default_batch: ${(ours / theirsDefault).toFixed(2)}`);
    console.log(`publisher_rss_before_mb: ${rssBeforeMb.toFixed(1)}`);
    console.log(`publisher_peak_rss_mb: ${peakRssMb.toFixed(1)}`);
  } finally {
    await broker?.close();
    await admin.close();
    await kafka.stop();
  }
}
