import type { Archive } from '@mupets/archive';
import type { Broker } from '@mupets/broker';
import type { TokenStore } from '@mupets/tokens';
import { readinessOf, runCheck } from '@mupets/cargo';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { PublishAudit } from './audit';
import { createLoginRouter, createSessionRouter } from './auth/auth.router';
import { loadSession, requireCsrf, requireSession, sessionOf } from './auth/session.middleware';
import type { SessionStore } from './auth/session-store';
import type { AdminConfig } from './config';
import { apiNotFound, errorHandler } from './http/error-handler';
import { HttpError } from './http/http-error';
import { LiveStreams } from './live/live-streams';
import type { AppLogger } from './logger';
import { createArchiveRouter } from './archive/archive.router';
import { createBrokerRouter } from './broker/broker.router';
import { createEventsRouter } from './events/events.router';
import { createLiveRouter } from './live/live.router';
import type { DockerStatus } from './containers/container-service';
import { createStatusRouter } from './status/status.router';
import { createTokensRouter } from './tokens/tokens.router';

/** The settings `createApp` reads (a loaded {@link AdminConfig} has them all). */
export type AppConfig = Pick<
  AdminConfig,
  | 'BROKER'
  | 'ADMIN_CHANNELS'
  | 'ADMIN_BODY_LIMIT'
  | 'ADMIN_COOKIE_SECURE'
  | 'ADMIN_LOGIN_RATE_LIMIT'
  | 'ADMIN_TRUST_PROXY'
  | 'ADMIN_MAX_STREAMS'
  | 'ADMIN_MAX_STREAMS_PER_SESSION'
  | 'ADMIN_SSE_HEARTBEAT_MS'
  | 'ADMIN_STUDIO_URL'
  | 'ADMIN_STUDIO_CHECK_URL'
>;

export interface AuthDeps {
  /** The argon2 hash of the admin password (see `resolvePasswordHash`). */
  passwordHash: string;
  sessions: SessionStore;
}

export interface AppDeps {
  config: AppConfig;
  broker: Broker;
  archive: Archive;
  auth: AuthDeps;
  logger: AppLogger;
  publishAudit: PublishAudit;
  /** The containers API (`createContainersRouter` of src/containers), mounted at /api/containers; null: Docker is off (503). */
  containers?: Router | null;
  /** Docker's state for `GET /api/status`. */
  dockerStatus?: () => Promise<DockerStatus>;
  /** The web UI (`createUiRouter` of src/ui); its assets and login page are public, the rest needs a session. */
  ui?: Router | null;
  /** The ingest's API tokens (on Redis), mounted at /api/tokens; null: those routes answer 503. */
  tokens?: Pick<TokenStore, 'create' | 'list' | 'revoke'> | null;
  /** Open SSE streams, closed at shutdown; default: a registry of the app's own. */
  streams?: LiveStreams;
}

/** Paths of the UI anyone may load: the login page and static assets. */
export function isPublicUiPath(path: string): boolean {
  return (
    path === '/login' ||
    path === '/favicon.ico' ||
    path.startsWith('/assets/') ||
    /^\/[\w./-]+\.(js|css|map|svg|png|ico|woff2?|txt)$/.test(path)
  );
}

/**
 * The admin's express app: health, the JSON API under /api, the UI. Never listens (main.ts does).
 * Order matters and is the security model: health and login are public; every other /api route
 * needs a session (401), then a CSRF token when it changes something (403); only then is a body parsed.
 */
export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const streams =
    deps.streams ??
    new LiveStreams({ maxPerOwner: config.ADMIN_MAX_STREAMS_PER_SESSION, maxTotal: config.ADMIN_MAX_STREAMS });
  const app = express();
  app.disable('x-powered-by');
  // the client's address (login limit, audit) through the proxies the operator named, no others
  app.set('trust proxy', config.ADMIN_TRUST_PROXY);
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
        },
      },
      // HSTS only makes sense when the admin is served over TLS
      strictTransportSecurity: config.ADMIN_COOKIE_SECURE,
    }),
  );

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });

  const authOptions = {
    passwordHash: deps.auth.passwordHash,
    sessions: deps.auth.sessions,
    secureCookie: config.ADMIN_COOKIE_SECURE,
    loginLimitPerMinute: config.ADMIN_LOGIN_RATE_LIMIT,
    publishAudit: deps.publishAudit,
    logger,
    onSessionEnd: (sessionId: string) => void streams.closeOwnedBy(sessionId),
  };
  app.use(loadSession(deps.auth.sessions));
  // public for healthchecks and load balancers: the status only; why a check failed (addresses,
  // the OrientDB user) only with a session
  app.get('/readyz', async (_request, response) => {
    const [broker, archive] = await Promise.all([
      runCheck(() => deps.broker.ready(1000), 1500),
      runCheck(() => deps.archive.ping(), 1500),
    ]);
    const shown = sessionOf(response)
      ? { broker, archive }
      : { broker: { ok: broker.ok }, archive: { ok: archive.ok } };
    const readiness = readinessOf(shown);
    response.status(readiness.status === 'ready' ? 200 : 503).json(readiness);
  });
  app.use('/api', createLoginRouter(authOptions, config.ADMIN_BODY_LIMIT));

  const api = express.Router();
  api.use(requireSession, requireCsrf, express.json({ limit: config.ADMIN_BODY_LIMIT }));
  api.use(createSessionRouter(authOptions));
  api.use(
    '/status',
    createStatusRouter({
      broker: deps.broker,
      archive: deps.archive,
      backend: config.BROKER,
      dockerStatus: deps.dockerStatus,
      studioUrl: config.ADMIN_STUDIO_URL,
      studioCheckUrl: config.ADMIN_STUDIO_CHECK_URL,
    }),
  );
  api.use(
    '/live',
    createLiveRouter({
      broker: deps.broker,
      channels: config.ADMIN_CHANNELS,
      streams,
      heartbeatMs: config.ADMIN_SSE_HEARTBEAT_MS,
      logger,
    }),
  );
  api.use('/archive', createArchiveRouter({ archive: deps.archive, logger }));
  api.use(
    '/events',
    createEventsRouter({
      broker: deps.broker,
      channels: config.ADMIN_CHANNELS,
      publishAudit: deps.publishAudit,
      logger,
    }),
  );
  api.use(
    '/broker',
    createBrokerRouter({
      broker: deps.broker,
      backend: config.BROKER,
      channels: config.ADMIN_CHANNELS,
      publishAudit: deps.publishAudit,
      logger,
    }),
  );
  api.use('/containers', deps.containers ?? dockerUnavailable());
  api.use(
    '/tokens',
    deps.tokens
      ? createTokensRouter({ tokens: deps.tokens, publishAudit: deps.publishAudit, logger })
      : unavailable('tokens_unavailable', 'the token store is not configured'),
  );
  api.use(apiNotFound);
  app.use('/api', api);

  if (deps.ui) {
    app.use(uiGate, deps.ui);
  }
  app.use(errorHandler(logger));
  return app;
}

/** UI pages need a session: a browser without one is sent to the login page. */
function uiGate(request: Request, response: Response, next: NextFunction): void {
  const reading = request.method === 'GET' || request.method === 'HEAD';
  if (sessionOf(response) || (reading && isPublicUiPath(request.path))) {
    next();
    return;
  }
  if (!reading) {
    next(new HttpError(401, 'unauthenticated', 'log in first'));
    return;
  }
  response.redirect(303, '/login');
}

/** Without Docker every containers route answers 503. */
function dockerUnavailable(): Router {
  return unavailable('docker_unavailable', 'Docker is not available to the admin');
}

function unavailable(code: string, message: string): Router {
  const router = express.Router();
  router.use((_request, _response, next) => {
    next(new HttpError(503, code, message));
  });
  return router;
}
