import Redis from 'ioredis';
import { Admin, Consumer, ListOffsetTimestamps, Producer, type GenericError } from '@platformatic/kafka';
import {
  kafkaBrokers,
  redisUrl,
  startKafkaServer,
  startRedisServer,
  testPrefix,
  type KafkaServer,
  type RedisServer,
} from '@mupets/testkit';
import {
  createKafkaBroker,
  createRedisBroker,
  type Broker,
  type Envelope,
  type KafkaBrokerOptions,
  type MessageInput,
  type RedisBrokerOptions,
} from '@mupets/broker';

/** A small valid message; `i` makes each one recognisable. */
export function message(i: number, extra: Partial<MessageInput> = {}): MessageInput {
  return { type: 'test.event', source: { service: 'broker-test' }, data: { i }, ...extra };
}

/** Options both backends take (each keeps its defaults for the rest). */
export interface TestBrokerOptions {
  maxMessageBytes?: number;
  maxBufferedMessages?: number;
  publishBatchSize?: number;
  publishTimeoutMs?: number;
  onBufferFull?: 'reject' | 'wait';
  logger?: RedisBrokerOptions['logger'];
}

/** A server a test owns and may kill: Redis or Kafka, addressed the way its broker takes it. */
export interface PrivateServer {
  readonly address: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * One backend of the broker contract, for `describe.each(backends)`: how to reach the shared test
 * server (global setup), how to read a channel straight from the server (not through the code
 * under test), and how to start a private one.
 */
export interface Backend {
  readonly name: 'redis' | 'kafka';
  /** The shared server of the test run. */
  sharedAddress(): string;
  /** A key / topic prefix unique to one test file. */
  prefixFor(file: string): string;
  brokerAt(address: string, prefix: string, options?: TestBrokerOptions): Broker;
  /** Every envelope stored on a channel, oldest first, with its id. */
  read(address: string, prefix: string, channel: string): Promise<Array<{ id: string; envelope: Envelope }>>;
  /** Stores a raw value (no validation) on a channel; resolves with its id. */
  writeRaw(address: string, prefix: string, channel: string, value: string): Promise<string>;
  /** What a dead letter keeps of an entry that held `value` and was not a valid envelope. */
  rawFields(value: string): string[];
  startServer(): Promise<PrivateServer>;
  /** Environment that makes `createBroker()` in a child process pick this backend. */
  childEnv(address: string): Record<string, string>;
}

export function privateServer(address: string, server: RedisServer | KafkaServer): PrivateServer {
  return {
    address,
    stop: (signal) => server.stop(signal),
    start: () => server.start(),
    destroy: () => server.destroy(),
  };
}

export const redisBackend: Backend = {
  name: 'redis',
  sharedAddress: redisUrl,
  prefixFor: testPrefix,
  brokerAt: (url, keyPrefix, options = {}) => createRedisBroker({ url, keyPrefix, ...options }),
  read: (url, prefix, channel) => readRedisStream(url, `${prefix}${channel}`),
  async writeRaw(url, prefix, channel, value) {
    const redis = new Redis(url);
    try {
      return (await redis.xadd(`${prefix}${channel}`, '*', 'e', value))!;
    } finally {
      redis.disconnect();
    }
  },
  rawFields: (value) => ['e', value],
  async startServer() {
    const server: RedisServer = await startRedisServer();
    return privateServer(server.url, server);
  },
  childEnv: (url) => ({ BROKER: 'redis', REDIS_URL: url }),
};

export const kafkaBackend: Backend = {
  name: 'kafka',
  sharedAddress: kafkaBrokers,
  // topic names allow letters, digits, . _ - only
  prefixFor: (file) => testPrefix(file).replace(/:/g, '.'),
  brokerAt: (brokers, topicPrefix, options = {}) => createKafkaBroker({ brokers, topicPrefix, ...options }),
  read: (brokers, prefix, channel) => readKafkaTopic(brokers, `${prefix}${channel}`),
  writeRaw: (brokers, prefix, channel, value) => writeKafkaRecord(brokers, `${prefix}${channel}`, value),
  rawFields: (value) => ['value', value],
  async startServer() {
    const server: KafkaServer = await startKafkaServer();
    return privateServer(server.brokers, server);
  },
  childEnv: (brokers) => ({ BROKER: 'kafka', KAFKA_BROKERS: brokers }),
};

export const backends: readonly Backend[] = [redisBackend, kafkaBackend];

/** Kafka-only tests. */
export function kafkaBrokerFor(
  brokers: string,
  topicPrefix: string,
  options: Partial<KafkaBrokerOptions> = {},
): Broker {
  return createKafkaBroker({ brokers, topicPrefix, ...options });
}

/**
 * For a test file (or one backend's describe block) on the shared test server: its own prefix, and
 * a broker opened before its tests and closed after them (`file.broker` is usable inside tests).
 */
export function brokerPerFile(
  file: string,
  backend: Backend = redisBackend,
): { readonly prefix: string; readonly address: string; readonly broker: Broker } {
  const prefix = backend.prefixFor(file);
  let broker: Broker | undefined;
  beforeAll(async () => {
    broker = backend.brokerAt(backend.sharedAddress(), prefix);
    await broker.ready(10_000);
  });
  afterAll(async () => {
    await broker?.close();
  });
  return {
    prefix,
    get address(): string {
      return backend.sharedAddress();
    },
    get broker(): Broker {
      if (!broker) {
        throw new Error('brokerPerFile: the broker opens in beforeAll; use it inside tests');
      }
      return broker;
    },
  };
}

/** Every envelope stored in a stream, read straight from Redis (not through the code under test). */
async function readRedisStream(url: string, key: string): Promise<Array<{ id: string; envelope: Envelope }>> {
  const redis = new Redis(url);
  try {
    const out: Array<{ id: string; envelope: Envelope }> = [];
    let start = '-';
    for (;;) {
      const rows = await redis.xrange(key, start, '+', 'COUNT', 5000);
      for (const [id, fields] of rows) {
        out.push({ id, envelope: JSON.parse(fields[1]!) as Envelope });
      }
      if (rows.length < 5000) {
        return out;
      }
      start = `(${rows[rows.length - 1]![0]}`;
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Every record of a topic, partition by partition in offset order, read with the Kafka client's
 * own fetch (not through the code under test). A topic that does not exist reads as empty.
 */
export async function readKafkaTopic(
  brokers: string,
  topic: string,
): Promise<Array<{ id: string; envelope: Envelope }>> {
  const bootstrapBrokers = brokers.split(',');
  const admin = new Admin({ clientId: 'test-reader', bootstrapBrokers });
  const reader = new Consumer({ clientId: 'test-reader', groupId: 'test-reader-unused', bootstrapBrokers });
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      return [];
    }
    const metadata = (await admin.metadata({ topics: [topic] })).topics.get(topic)!;
    const partitions = [...Array(metadata.partitionsCount).keys()];
    const offsets = async (timestamp: bigint): Promise<bigint[]> => {
      const [found] = await admin.listOffsets({
        topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }],
      });
      return partitions.map((p) => found!.partitions.find((x) => x.partitionIndex === p)!.offset);
    };
    const [starts, ends] = [await offsets(ListOffsetTimestamps.EARLIEST), await offsets(ListOffsetTimestamps.LATEST)];
    const out: Array<{ id: string; envelope: Envelope }> = [];
    for (const partition of partitions) {
      let position = starts[partition]!;
      while (position < ends[partition]!) {
        const response = await reader.fetch({
          node: metadata.partitions[partition]!.leader,
          maxWaitTime: 100,
          topics: [
            {
              topicId: metadata.id,
              partitions: [
                {
                  partition,
                  fetchOffset: position,
                  partitionMaxBytes: 4 << 20,
                  currentLeaderEpoch: -1,
                  lastFetchedEpoch: -1,
                },
              ],
            },
          ],
        });
        for (const batch of response.responses[0]?.partitions[0]?.records ?? []) {
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta);
            if (offset >= position && offset < ends[partition]!) {
              out.push({ id: `${partition}-${offset}`, envelope: JSON.parse(record.value!.toString()) as Envelope });
            }
          }
          const next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
          position = next > position ? next : position;
        }
      }
    }
    return out;
  } finally {
    await reader.close();
    await admin.close();
  }
}

/** Appends one raw record to partition 0 of a topic (created when missing) with the plain client. */
async function writeKafkaRecord(brokers: string, topic: string, value: string): Promise<string> {
  const bootstrapBrokers = brokers.split(',');
  const admin = new Admin({ clientId: 'test-writer', bootstrapBrokers });
  const producer = new Producer({ clientId: 'test-writer', bootstrapBrokers });
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: -1 }).catch((error: GenericError) => {
      if (!error.findBy?.('apiId', 'TOPIC_ALREADY_EXISTS')) {
        throw error;
      }
    });
    const result = await producer.send({ messages: [{ topic, partition: 0, value: Buffer.from(value) }] });
    return `0-${result.offsets![0]!.offset}`;
  } finally {
    await producer.close();
    await admin.close();
  }
}
