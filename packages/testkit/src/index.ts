export { freePort } from './free-port';
export { buildBusyboxImage, composeLabels, runLooper, BUSYBOX, TEST_IMAGE, type LooperOptions } from './busybox-image';
export { startDockerd, assertDockerdInstalled, type Dockerd, type DockerdOptions } from './dockerd';
export { startRedisServer, assertRedisInstalled, type RedisServer, type RedisServerOptions } from './redis-server';
export { spawnTs } from './spawn-ts';
export {
  startKafkaServer,
  assertKafkaInstalled,
  kafkaLibsDir,
  writeKafkaToolScripts,
  KAFKA_VERSION,
  type KafkaServer,
  type KafkaServerOptions,
} from './kafka-server';
export { testPrefix } from './test-prefix';
export { waitFor, type WaitForOptions } from './wait-for';

/** REDIS_URL set by the integration global setup (or by the caller's environment). */
export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url) {
    throw new Error('REDIS_URL is not set: run integration tests through jest (its global setup starts redis-server)');
  }
  return url;
}

/** KAFKA_BROKERS (comma-separated host:port) set by the integration global setup (or by the caller's environment). */
export function kafkaBrokers(): string {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    throw new Error('KAFKA_BROKERS is not set: run integration tests through jest (its global setup starts Kafka)');
  }
  return brokers;
}

export {
  startOrientDbServer,
  assertOrientDbInstalled,
  orientDbHome,
  ORIENTDB_VERSION,
  type OrientDbServer,
  type OrientDbServerOptions,
} from './orientdb-server';

/** Connection settings of the OrientDB server the integration global setup started. */
export function orientDbServerConfig(): { host: string; port: number; username: string; password: string } {
  const { ORIENTDB_HOST, ORIENTDB_PORT, ORIENTDB_USER, ORIENTDB_PASSWORD } = process.env;
  if (!ORIENTDB_PORT || !ORIENTDB_PASSWORD) {
    throw new Error('ORIENTDB_PORT is not set: run integration tests through jest (its global setup starts OrientDB)');
  }
  return {
    host: ORIENTDB_HOST ?? '127.0.0.1',
    port: Number(ORIENTDB_PORT),
    username: ORIENTDB_USER ?? 'root',
    password: ORIENTDB_PASSWORD,
  };
}

/** A database name of its own for a test file (OrientDB names: letters, digits, _ and -). */
export function testDatabase(testFile: string): string {
  const base = testFile
    .replace(/^.*[\\/]/, '')
    .replace(/\.test\.ts$/, '')
    .replace(/[^a-zA-Z0-9]/g, '_');
  return `t_${base}_${Math.random().toString(36).slice(2, 8)}`;
}
