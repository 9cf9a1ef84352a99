import { startKafkaServer, type KafkaServer } from './kafka-server';
import { startOrientDbServer, type OrientDbServer } from './orientdb-server';
import { startRedisServer, type RedisServer } from './redis-server';

declare global {
  var __MUPETS_REDIS__: RedisServer | undefined;
  var __MUPETS_ORIENTDB__: OrientDbServer | undefined;
  var __MUPETS_KAFKA__: KafkaServer | undefined;
}

/**
 * Jest global setup for integration tests: private servers on free ports, shared by the test
 * files (each uses its own key prefix or database), started side by side:
 * - redis-server, unless REDIS_URL points at one already;
 * - OrientDB, unless ORIENTDB_PORT points at one already (ORIENTDB_HOST, ORIENTDB_USER,
 *   ORIENTDB_PASSWORD complete it);
 * - a single-node Kafka (KRaft), unless KAFKA_BROKERS points at one already.
 * Tests that restart a server start their own.
 */
export default async function globalSetup(): Promise<void> {
  // workers are forked after global setup and inherit process.env
  await Promise.all([
    (async () => {
      if (!process.env.REDIS_URL) {
        const server = await startRedisServer();
        globalThis.__MUPETS_REDIS__ = server;
        process.env.REDIS_URL = server.url;
      }
    })(),
    (async () => {
      if (!process.env.ORIENTDB_PORT) {
        const server = await startOrientDbServer();
        globalThis.__MUPETS_ORIENTDB__ = server;
        Object.assign(process.env, {
          ORIENTDB_HOST: server.host,
          ORIENTDB_PORT: String(server.port),
          ORIENTDB_USER: server.username,
          ORIENTDB_PASSWORD: server.password,
        });
      }
    })(),
    (async () => {
      if (!process.env.KAFKA_BROKERS) {
        const server = await startKafkaServer();
        globalThis.__MUPETS_KAFKA__ = server;
        process.env.KAFKA_BROKERS = server.brokers;
      }
    })(),
  ]);
}
