// cargo-template: created by `npm run new:service`; see docs/cargo-services.md.
import { hostname } from 'node:os';
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
// <http>
import { createApp } from './app';
import { listen } from './http-server';
// </http>
import { loadCargoTemplateConfig } from './config';
// <consume>
import { startGreeter } from './greeter';
// </consume>

const SERVICE = 'cargo-template';

void runService(async () => {
  const config = loadCargoTemplateConfig();
  const logger = createLogger({
    service: SERVICE,
    instance: hostname(),
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
  });
  const broker = connectBroker(config, { logger });
  // from here on every log line also goes to the broker's logs channel, and so to the archive
  attachBroker(logger, broker);
  const lifecycle = createLifecycle({ logger, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
  lifecycle.installProcessHandlers();
  // close hooks run in reverse order: the broker, registered first, closes last
  lifecycle.onShutdown('close', 'broker', () => broker.close());

  const health = createHealthServer({
    port: config.HEALTH_PORT,
    host: config.HEALTH_HOST,
    checks: { broker: () => broker.ready(1000) },
    registry: createMetricsRegistry({ service: SERVICE }),
    logger,
  });
  await health.listen();
  lifecycle.onShutdown('close', 'health', () => health.close());

  // <consume>
  const greeter = startGreeter({
    broker,
    logger: logger.child({ component: 'greeter' }),
    service: SERVICE,
    channel: config.CARGO_TEMPLATE_CHANNEL,
    group: config.CARGO_TEMPLATE_GROUP,
    eventsChannel: config.CARGO_TEMPLATE_EVENTS_CHANNEL,
    maxDeliveries: config.CARGO_TEMPLATE_MAX_DELIVERIES,
  });
  // stops reading; the batch in flight finishes and is acked
  lifecycle.onShutdown('intake', 'greeter', () => greeter.stop());
  // </consume>
  // <http>
  const app = createApp({
    broker,
    logger: logger.child({ component: 'http' }),
    service: SERVICE,
    channel: config.CARGO_TEMPLATE_CHANNEL,
    apiToken: config.CARGO_TEMPLATE_API_TOKEN,
  });
  const api = await listen(app, config.CARGO_TEMPLATE_PORT, config.CARGO_TEMPLATE_HOST);
  lifecycle.onShutdown('intake', 'http', () => api.close());
  // </http>
  lifecycle.onShutdown('drain', 'logs', async () => {
    await flushLogs(logger, 3000);
  });

  logger.info('service started', {
    channel: config.CARGO_TEMPLATE_CHANNEL,
    // <http>
    port: api.port,
    // </http>
  });
});
