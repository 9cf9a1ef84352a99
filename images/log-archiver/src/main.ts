// The log-archiver: every message of the logs and events channels, stored once in OrientDB.
import { createArchive } from '@mupets/archive';
import {
  attachBroker,
  connectBroker,
  createHealthServer,
  createLifecycle,
  createLogger,
  createMetricsRegistry,
  flushLogs,
  runService,
} from '@mupets/cargo';
import { startArchiver } from './archiver';
import { claimWriterSlot } from './writer-slot';
import { loadArchiverConfig } from './config';

void runService(async () => {
  const config = loadArchiverConfig();
  const logger = createLogger({ service: 'log-archiver', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const broker = connectBroker(config, { logger });
  attachBroker(logger, broker);
  const lifecycle = createLifecycle({ logger, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
  lifecycle.installProcessHandlers();

  const archive = createArchive({
    host: config.ORIENTDB_HOST,
    port: config.ORIENTDB_PORT,
    username: config.ORIENTDB_USER,
    password: config.ORIENTDB_PASSWORD,
    database: config.ORIENTDB_DATABASE,
    logger,
  });
  lifecycle.onShutdown('close', 'archive', () => archive.close());
  lifecycle.onShutdown('close', 'broker', () => broker.close());
  // OrientDB may still be starting (compose starts both at once): wait for it, readiness false meanwhile
  const registry = createMetricsRegistry({ service: 'log-archiver' });
  let schemaReady = false;
  const health = createHealthServer({
    port: config.HEALTH_PORT,
    host: config.HEALTH_HOST,
    checks: {
      broker: () => broker.ready(1000),
      archive: async () => {
        if (!schemaReady) {
          throw new Error('schema bootstrap not done yet');
        }
        await archive.ping();
      },
    },
    registry,
    logger,
  });
  await health.listen();
  lifecycle.onShutdown('close', 'health', () => health.close());
  const version = await bootstrapWithRetry(
    async () => {
      const applied = await archive.bootstrap();
      if (config.ORIENTDB_READER_USER !== undefined && config.ORIENTDB_READER_PASSWORD !== undefined) {
        await archive.ensureUser({
          name: config.ORIENTDB_READER_USER,
          password: config.ORIENTDB_READER_PASSWORD,
          role: 'reader',
        });
        logger.info('archive reader user ready', { user: config.ORIENTDB_READER_USER });
      }
      return applied;
    },
    logger,
    () => lifecycle.shuttingDown,
  );
  schemaReady = true;
  logger.info('archive schema ready', { version, database: config.ORIENTDB_DATABASE });

  const slot = await claimWriterSlot(`${config.ORIENTDB_HOST}:${config.ORIENTDB_PORT}/${config.ORIENTDB_DATABASE}`);
  lifecycle.onShutdown('close', 'writer slot', () => slot.release());
  const archiver = await startArchiver({
    broker,
    archive,
    logger,
    registry,
    channels: config.ARCHIVER_CHANNELS,
    group: config.ARCHIVER_GROUP,
    batchSize: config.ARCHIVER_BATCH_SIZE,
    maxBatchBytes: config.ARCHIVER_BATCH_BYTES,
    concurrency: config.ARCHIVER_CONCURRENCY,
    maxWaitMs: config.ARCHIVER_MAX_WAIT_MS,
    minIdleMs: config.ARCHIVER_MIN_IDLE_MS,
    maxDeliveries: config.ARCHIVER_MAX_DELIVERIES,
    streamMaxLen: config.ARCHIVER_STREAM_MAX_LEN,
    trimIntervalMs: config.ARCHIVER_TRIM_INTERVAL_MS,
    retentionMs: config.ARCHIVER_RETENTION_DAYS * 86_400_000,
    retentionIntervalMs: config.ARCHIVER_RETENTION_INTERVAL_MS,
    replayWindowMs: config.ARCHIVER_REPLAY_WINDOW_MS,
    writerId: slot.writerId,
  });
  lifecycle.onShutdown('intake', 'archiver', () => archiver.stop());
  lifecycle.onShutdown('drain', 'logs', async () => {
    await flushLogs(logger, 3000);
  });
});

async function bootstrapWithRetry(
  bootstrap: () => Promise<number>,
  logger: { warn(message: string, meta?: Record<string, unknown>): unknown },
  shuttingDown: () => boolean,
): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await bootstrap();
    } catch (error) {
      if (shuttingDown()) {
        throw error;
      }
      logger.warn('archive not ready, retrying', { attempt, error: error instanceof Error ? error.message : error });
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
    }
  }
}
