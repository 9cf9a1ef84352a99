// The ingest: the stack's door for other languages and hosts - native envelopes and OTLP/HTTP logs,
// each request authorised by a per-service API token, answered only once the broker stored it.
import {
  attachBroker,
  connectBroker,
  createHealthServer,
  createHttpServer,
  createLifecycle,
  createLogger,
  createMetricsRegistry,
  flushLogs,
  redisTarget,
  runService,
} from '@mupets/cargo';
import { openTokenStore } from '@mupets/tokens';
import { createApp } from './app';
import { loadIngestConfig } from './config';
import { createIngestMetrics } from './ingest-metrics';
import { RateLimiter } from './rate-limiter';

void runService(async () => {
  const config = loadIngestConfig();
  const logger = createLogger({ service: 'ingest', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const broker = connectBroker(config, {
    logger,
    // a request waits for its batch to be stored: bound that wait, and refuse at once when the
    // buffer is full, so the sender hears 503 + Retry-After instead of a hanging connection
    publishTimeoutMs: config.INGEST_PUBLISH_TIMEOUT_MS,
    onBufferFull: 'reject',
  });
  attachBroker(logger, broker);
  const lifecycle = createLifecycle({ logger, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
  lifecycle.installProcessHandlers();
  lifecycle.onShutdown('close', 'broker', () => broker.close());

  // the API tokens live on Redis whichever backbone carries the channels; while Redis is away the
  // token routes answer 503 at once
  const tokenStore = openTokenStore(redisTarget(config), { keyPrefix: config.TOKENS_KEY_PREFIX, logger });
  lifecycle.onShutdown('close', 'token store', () => tokenStore.close());
  const tokens = tokenStore.store;

  const registry = createMetricsRegistry({ service: 'ingest' });
  const health = createHealthServer({
    port: config.HEALTH_PORT,
    host: config.HEALTH_HOST,
    checks: {
      broker: () => broker.ready(1000),
      tokens: async () => {
        await tokenStore.ping();
      },
    },
    registry,
    logger,
  });
  await health.listen();
  lifecycle.onShutdown('close', 'health', () => health.close());

  const app = createApp({
    config,
    broker,
    tokens,
    limiter: new RateLimiter(),
    logger: logger.child({ component: 'http' }),
    metrics: createIngestMetrics(registry),
  });
  const http = createHttpServer(app);
  const port = await http.listen(config.INGEST_PORT, config.INGEST_HOST);
  logger.info('ingest listening', { port, host: config.INGEST_HOST, broker: config.BROKER });
  // requests in flight finish (their batches are confirmed or refused) before the broker closes
  lifecycle.onShutdown('intake', 'http', () => http.close(Math.min(10_000, config.SHUTDOWN_DEADLINE_MS / 2)));
  lifecycle.onShutdown('drain', 'logs', async () => {
    await flushLogs(logger, 3000);
  });
});
