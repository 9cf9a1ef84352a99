import type { Admin, Base, BaseOptions, GenericError } from '@platformatic/kafka';
import type { BrokerLogger } from '../logger';

/** The SASL mechanisms the broker logs in with: SCRAM (the prod stack's) or PLAIN (over TLS only). */
export const KAFKA_SASL_MECHANISMS = ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const;

/** A Kafka user and its password: every client of the broker authenticates as it. */
export interface KafkaCredentials {
  readonly mechanism: (typeof KAFKA_SASL_MECHANISMS)[number];
  readonly username: string;
  readonly password: string;
}

/** What every Kafka client of one broker shares. */
export interface KafkaSettings {
  readonly clientId: string;
  readonly bootstrapBrokers: readonly string[];
  readonly logger: BrokerLogger;
  readonly sasl?: KafkaCredentials | undefined;
}

/**
 * Base options of every client: short connect timeout, a few retries with a growing pause (the
 * broker owns retrying beyond that, as it does for Redis), and never a topic created by accident.
 */
export function baseClientOptions(settings: KafkaSettings, role: string): BaseOptions {
  return {
    clientId: `${settings.clientId}-${role}`,
    bootstrapBrokers: [...settings.bootstrapBrokers],
    connectTimeout: 5000,
    retries: 3,
    retryDelay: (_client, _operation, attempt) => Math.min(1000, 100 * 2 ** attempt),
    autocreateTopics: false,
    ...(settings.sasl ? { sasl: { ...settings.sasl } } : {}),
  };
}

/** True when the client error (or one it wraps) is the Kafka protocol error `apiId`, e.g. `TOPIC_ALREADY_EXISTS`. */
export function kafkaErrorIs(error: unknown, apiId: string): boolean {
  const findBy = (error as Partial<GenericError> | undefined)?.findBy;
  return typeof findBy === 'function' && findBy.call(error, 'apiId', apiId) !== null;
}

/** The topic does not exist (the client reports this one as a plain `Unknown topic <name>.` error). */
export function isUnknownTopic(error: unknown): boolean {
  return (
    kafkaErrorIs(error, 'UNKNOWN_TOPIC_OR_PARTITION') ||
    (error instanceof Error && /^Unknown topic /.test(error.message))
  );
}

/**
 * Logs loss and recovery of a client's broker connections once per outage, not once per reconnect
 * attempt; the client's own `error` events (a group it could not rejoin, say) become warnings
 * instead of crashing the process.
 */
export function watchClient(client: Base, role: string, settings: KafkaSettings): { markClosing(): void } {
  const { logger } = settings;
  const brokers = settings.bootstrapBrokers.join(',');
  let closing = false;
  let everConnected = false;
  let downSince: number | undefined;
  client.on('client:broker:connect', () => {
    if (downSince !== undefined) {
      logger.info('kafka connection recovered', { role, brokers, downMs: Math.round(performance.now() - downSince) });
    }
    downSince = undefined;
    everConnected = true;
  });
  client.on('client:broker:disconnect', () => {
    if (!closing && everConnected && downSince === undefined) {
      downSince = performance.now();
      logger.warn('kafka connection lost', { role, brokers });
    }
  });
  client.on('client:broker:failed', () => {
    if (!closing && !everConnected && downSince === undefined) {
      downSince = performance.now();
      logger.warn('kafka not reachable yet', { role, brokers });
    }
  });
  client.on('error', (error: Error) => {
    if (!closing) {
      logger.warn('kafka client error', { role, error: error.message });
    }
  });
  return {
    markClosing: () => {
      closing = true;
    },
  };
}

/** Where a topic's partitions live. */
export interface TopicLayout {
  readonly id: string;
  readonly partitions: number;
  /** Node id of each partition's leader, by partition. */
  readonly leaders: readonly number[];
}

/**
 * Creates topics on first use (with this broker's partition count and replication factor; an
 * existing topic is used as it is) and answers where a topic's partitions are.
 */
export class TopicRegistry {
  private readonly ensured = new Map<string, Promise<number>>();

  constructor(
    private readonly admin: Admin,
    private readonly options: { readonly partitions: number; readonly replicationFactor: number },
  ) {}

  /** Creates `topic` unless it exists; resolves with its partition count. */
  ensure(topic: string): Promise<number> {
    let ensured = this.ensured.get(topic);
    if (!ensured) {
      ensured = this.create(topic);
      this.ensured.set(topic, ensured);
      // a failure (Kafka down) is not remembered: the next call tries again
      ensured.catch(() => this.ensured.delete(topic));
    }
    return ensured;
  }

  /** The topic's layout, or undefined when it does not exist (never creates it). */
  async layout(topic: string, forceUpdate = false): Promise<TopicLayout | undefined> {
    // the client retries a metadata request for an unknown topic for seconds: ask the list first
    if (!this.ensured.has(topic) && !(await this.admin.listTopics()).includes(topic)) {
      return undefined;
    }
    try {
      const metadata = await this.admin.metadata({ topics: [topic], autocreateTopics: false, forceUpdate });
      const found = metadata.topics.get(topic);
      if (!found) {
        return undefined;
      }
      return { id: found.id, partitions: found.partitionsCount, leaders: found.partitions.map((p) => p.leader) };
    } catch (error) {
      if (isUnknownTopic(error)) {
        return undefined;
      }
      throw error;
    }
  }

  private async create(topic: string): Promise<number> {
    try {
      const [created] = await this.admin.createTopics({
        topics: [topic],
        partitions: this.options.partitions,
        replicas: this.options.replicationFactor,
      });
      if (created) {
        return created.partitions;
      }
    } catch (error) {
      if (!kafkaErrorIs(error, 'TOPIC_ALREADY_EXISTS')) {
        throw error;
      }
    }
    const layout = await this.layout(topic, true);
    if (!layout) {
      throw new Error(`kafka topic ${topic} was neither created nor found`);
    }
    return layout.partitions;
  }
}
