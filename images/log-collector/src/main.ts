// The log-collector: every container's stdout and stderr, published to the broker's logs channel.
import { hostname } from 'node:os';
import Docker from 'dockerode';
import { closeConnection, openConnection } from '@mupets/broker';
import {
  attachBroker,
  connectBroker,
  createHealthServer,
  createLifecycle,
  createLogger,
  createMetricsRegistry,
  flushLogs,
  ownContainerId,
  PROJECT_LABEL,
  redisTarget,
  runService,
} from '@mupets/cargo';
import { createCollector } from './collector';
import { loadCollectorConfig, type CollectorConfig } from './config';
import type { CollectScope } from './container-selector';
import { createPositionStore } from './position-store';

void runService(async () => {
  const config = loadCollectorConfig();
  const logger = createLogger({ service: 'log-collector', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const broker = connectBroker(config, { logger });
  attachBroker(logger, broker);
  const lifecycle = createLifecycle({ logger, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
  lifecycle.installProcessHandlers();
  lifecycle.onShutdown('close', 'broker', () => broker.close());
  const redis = openConnection(redisTarget(config), 'collector-positions', logger);
  lifecycle.onShutdown('close', 'positions', () => closeConnection(redis, { graceful: true }));
  const docker = new Docker({ socketPath: config.DOCKER_SOCKET });

  const registry = createMetricsRegistry({ service: 'log-collector' });
  // the health server listens before the collector exists (readiness: starting)
  const started: { collector?: ReturnType<typeof createCollector> } = {};
  const health = createHealthServer({
    port: config.HEALTH_PORT,
    host: config.HEALTH_HOST,
    checks: {
      broker: () => broker.ready(1000),
      collector: () => {
        const reason = started.collector ? started.collector.notReady : 'starting';
        if (reason !== null) {
          throw new Error(reason);
        }
      },
    },
    registry,
    logger,
  });
  await health.listen();
  lifecycle.onShutdown('close', 'health', () => health.close());

  // the collector's own container: its scope by default, and left out (its transport publishes its lines)
  const self = await ownContainer(docker);
  const scope = scopeOf(config, self?.labels);
  const host =
    config.COLLECTOR_HOST_NAME ?? (await docker.info().then((info: { Name?: string }) => info.Name)) ?? hostname();
  logger.info('collecting container logs', { scope, host });

  const collector = createCollector({
    docker,
    broker,
    positions: createPositionStore(redis, config.COLLECTOR_POSITION_PREFIX),
    logger: logger.child({ component: 'collector' }),
    registry,
    scope,
    host,
    channel: config.COLLECTOR_CHANNEL,
    batchSize: config.COLLECTOR_BATCH_SIZE,
    maxBufferedPerContainer: config.COLLECTOR_BUFFER_RECORDS,
    multilineWaitMs: config.COLLECTOR_MULTILINE_WAIT_MS,
    defaults: { stdout: config.COLLECTOR_STDOUT_LEVEL, stderr: config.COLLECTOR_STDERR_LEVEL },
    selfId: self?.id,
    // Redis stream ids start with their time: a lost batch is searched from shortly before it
    rangeStart: config.BROKER === 'redis' ? (atMs) => `${Math.max(0, atMs)}-0` : undefined,
  });
  started.collector = collector;
  lifecycle.onShutdown('intake', 'collector', () => collector.stop());
  lifecycle.onShutdown('drain', 'logs', async () => {
    await flushLogs(logger, 3000);
  });
  await collector.start();
});

/** The container this process runs in (from the mounts Docker made for it, not the hostname), if any. */
async function ownContainer(docker: Docker): Promise<{ id: string; labels: Record<string, string> } | undefined> {
  const id = await ownContainerId();
  if (!id) {
    return undefined;
  }
  try {
    const info = await docker.getContainer(id).inspect();
    return { id: info.Id, labels: info.Config.Labels ?? {} };
  } catch {
    return undefined;
  }
}

function scopeOf(config: CollectorConfig, ownLabels: Record<string, string> | undefined): CollectScope {
  if (config.COLLECTOR_SCOPE === 'host') {
    return { kind: 'host' };
  }
  if (config.COLLECTOR_SCOPE === 'labels') {
    return { kind: 'labels', labels: config.COLLECTOR_LABELS };
  }
  const project = config.COLLECTOR_COMPOSE_PROJECT || ownLabels?.[PROJECT_LABEL];
  if (!project) {
    throw new Error(
      'the compose project is unknown: the collector does not run in a compose container; set COLLECTOR_COMPOSE_PROJECT or COLLECTOR_SCOPE',
    );
  }
  return { kind: 'project', project };
}
