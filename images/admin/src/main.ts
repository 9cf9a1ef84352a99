// The admin: the JSON API, the web UI and the stack's containers, on one port.
import { resolve } from 'node:path';
import {
  attachBroker,
  connectBroker,
  createHttpServer,
  createLifecycle,
  createLogger,
  flushLogs,
  redisTarget,
  runService,
} from '@mupets/cargo';
import { openTokenStore } from '@mupets/tokens';
import { createApp } from './app';
import { createAuditPublisher } from './audit';
import { resolvePasswordHash } from './auth/password';
import { SessionStore } from './auth/session-store';
import { loadAdminConfig } from './config';
import { createContainerService } from './containers/container-service';
import { createContainersRouter, dockerStatus } from './containers/containers.router';
import { LiveStreams } from './live/live-streams';
import { createUiRouter } from './ui';
import { openArchiveReader } from './archive/archive-reader';

void runService(async () => {
  const config = loadAdminConfig();
  const logger = createLogger({ service: 'admin', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const broker = connectBroker(config, { logger });
  attachBroker(logger, broker);
  const lifecycle = createLifecycle({ logger, deadlineMs: config.SHUTDOWN_DEADLINE_MS });
  lifecycle.installProcessHandlers();

  const archive = openArchiveReader(config, logger);
  lifecycle.onShutdown('close', 'archive', () => archive.close());
  lifecycle.onShutdown('close', 'broker', () => broker.close());

  const passwordHash = await resolvePasswordHash({
    passwordFile: config.ADMIN_PASSWORD_FILE,
    dataDir: config.ADMIN_DATA_DIR,
    logger,
  });
  const sessions = new SessionStore({
    ttlMs: config.ADMIN_SESSION_TTL_MS,
    maxAgeMs: config.ADMIN_SESSION_MAX_AGE_MS,
    maxSessions: config.ADMIN_MAX_SESSIONS,
  });
  const publishAudit = createAuditPublisher(broker);
  const docker = createContainerService({
    socketPath: config.DOCKER_SOCKET,
    project: config.ADMIN_COMPOSE_PROJECT,
    logger: logger.child({ component: 'containers' }),
  });
  // the API tokens live on Redis whichever backbone carries the channels; while Redis is away the
  // token routes answer 503 at once
  const tokenStore = openTokenStore(redisTarget(config), { keyPrefix: config.TOKENS_KEY_PREFIX, logger });
  lifecycle.onShutdown('close', 'token store', () => tokenStore.close());
  const tokens = tokenStore.store;
  const streams = new LiveStreams({
    maxPerOwner: config.ADMIN_MAX_STREAMS_PER_SESSION,
    maxTotal: config.ADMIN_MAX_STREAMS,
  });
  const ui = createUiRouter({
    dir: config.ADMIN_UI_DIR ?? resolve(__dirname, '../web/dist'),
    watch: config.ADMIN_UI_WATCH,
    logger: logger.child({ component: 'ui' }),
  });
  const app = createApp({
    config,
    broker,
    archive,
    auth: { passwordHash, sessions },
    logger,
    publishAudit,
    containers: createContainersRouter({
      docker,
      publishAudit,
      streams,
      logger: logger.child({ component: 'containers' }),
    }),
    dockerStatus: () => dockerStatus(docker),
    ui,
    streams,
    tokens,
  });

  const http = createHttpServer(app);
  const port = await http.listen(config.ADMIN_PORT, config.ADMIN_HOST);
  logger.info('admin listening', { port, host: config.ADMIN_HOST, broker: config.BROKER });
  lifecycle.onShutdown('intake', 'http', async () => {
    // SSE responses never end by themselves: end them first, then close the server
    await Promise.all([streams.closeAll(), ui.close()]);
    await http.close(Math.min(5000, config.SHUTDOWN_DEADLINE_MS / 3));
    sessions.clear();
  });
  lifecycle.onShutdown('drain', 'logs', async () => {
    await flushLogs(logger, 3000);
  });
});
