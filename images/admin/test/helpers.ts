import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Express, Router } from 'express';
import supertest from 'supertest';
import { createArchive, type Archive } from '@mupets/archive';
import { createKafkaBroker, createRedisBroker, type Broker } from '@mupets/broker';
import { createLogger } from '@mupets/cargo';
import { TokenStore } from '@mupets/tokens';
import Redis from 'ioredis';
import { kafkaBrokers, orientDbServerConfig, redisUrl, testDatabase, testPrefix } from '@mupets/testkit';
import { startArchiverProcess, type ArchiverProcess } from '../../log-archiver/test/helpers';
import { createApp } from '../src/app';
import { openArchiveReader } from '../src/archive/archive-reader';
import { createAuditPublisher, type PublishAudit } from '../src/audit';
import { hashPassword } from '../src/auth/password';
import { SessionStore } from '../src/auth/session-store';
import { loadAdminConfig, type AdminConfig } from '../src/config';
import { LiveStreams } from '../src/live/live-streams';
import type { DockerStatus } from '../src/containers/container-service';
import type { ErrorBody } from '../src/http/error-handler';

/** The error shape of every 4xx/5xx answer (docs/admin-api.md), as the error handler declares it. */
export type ApiError = ErrorBody['error'];

/** A supertest answer's JSON body, typed by the caller. */
export function bodyOf<T = Record<string, unknown>>(answer: { body: unknown }): T {
  return answer.body as T;
}

/** A supertest answer's `error` object. */
export function errorOf(answer: { body: unknown }): ApiError {
  return (answer.body as ErrorBody).error;
}

/** The fields named by an error answer's issues. */
export function fieldsOf(answer: { body: unknown }): string[] {
  return (errorOf(answer).issues ?? []).map((issue) => issue.field);
}

/** The admin password of every test admin. */
export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestAdminOptions {
  /** Names the key prefix and database (pass `__filename`). Default `admin`. */
  file?: string;
  /** More ADMIN_* settings, as environment variables (e.g. `{ ADMIN_BODY_LIMIT: '1kb' }`). */
  env?: Record<string, string>;
  /** The containers router (`createContainersRouter(...)`); default none (containers routes answer 503). */
  containers?: Router | null;
  dockerStatus?: () => Promise<DockerStatus>;
  /** The UI router (`createUiRouter(...)`). */
  ui?: Router | null;
  /** Replaces the audit publisher (default: the real one on the test broker). */
  publishAudit?: PublishAudit;
  /** The backbone: the shared test Redis (default) or the shared test Kafka (KAFKA_BROKERS). */
  backend?: 'redis' | 'kafka';
}

/** A logged-in client: a supertest agent holding the session cookie, and the session's CSRF token. */
export interface LoggedIn {
  readonly agent: ReturnType<typeof supertest.agent>;
  readonly csrfToken: string;
  /** `mupets_admin=<id>`, for clients other than supertest (fetch, EventSource, a browser). */
  readonly cookie: string;
}

export interface TestAdmin {
  readonly app: Express;
  readonly config: AdminConfig;
  /** The admin's broker (Redis, own key prefix). */
  readonly broker: Broker;
  /** The admin's archive (own database, bootstrapped). */
  readonly archive: Archive;
  readonly prefix: string;
  readonly database: string;
  readonly password: string;
  readonly sessions: SessionStore;
  readonly streams: LiveStreams;
  /** The ingest's token store the admin manages. */
  readonly tokens: TokenStore;
  /** Everything the admin logged so far (JSON lines). */
  logs(): string;
  /** Logs in with supertest; resolves with the agent and its CSRF token. */
  login(): Promise<LoggedIn>;
  /** Serves the app on 127.0.0.1 and a free port (for SSE clients and browsers); resolves with the base URL. */
  listen(): Promise<string>;
  /** Runs a real log-archiver process on the admin's prefix and database (closed by `close()`). */
  startArchiver(): Promise<ArchiverProcess>;
  /** Closes streams, the server, the archiver, the broker and the archive. */
  close(): Promise<void>;
}

/**
 * An admin app on the shared test Redis and OrientDB (started by the integration global setup):
 * a broker on a key prefix of its own, an archive on a database of its own (bootstrapped), the
 * password {@link TEST_PASSWORD}. Nothing is mocked.
 */
/** The database user the admin logs in as, which the log-archiver keeps (ORIENTDB_READER_USER). */
const READER = { name: 'mupets_reader', password: randomBytes(12).toString('hex') };

export async function startTestAdmin(options: TestAdminOptions = {}): Promise<TestAdmin> {
  const file = options.file ?? 'admin';
  const kafka = options.backend === 'kafka';
  // Kafka topic names allow letters, digits, . _ - only
  const prefix = kafka ? testPrefix(file).replace(/:/g, '.') : testPrefix(file);
  const database = testDatabase(file);
  const orient = orientDbServerConfig();
  const config = loadAdminConfig({
    BROKER: kafka ? 'kafka' : 'redis',
    REDIS_URL: kafka ? 'redis://127.0.0.1:1' : redisUrl(),
    KAFKA_BROKERS: kafka ? kafkaBrokers() : 'unused:9092',
    BROKER_KEY_PREFIX: prefix,
    ORIENTDB_HOST: orient.host,
    ORIENTDB_PORT: String(orient.port),
    // the admin reads as the stack's admin does: a reader user of the database, not root
    ORIENTDB_USER: READER.name,
    ORIENTDB_PASSWORD: READER.password,
    ORIENTDB_DATABASE: database,
    ADMIN_COOKIE_SECURE: 'false',
    // the tests log in often from one address; the rate-limit test sets its own
    ADMIN_LOGIN_RATE_LIMIT: '1000',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  let output = '';
  const logger = createLogger({
    service: 'admin',
    level: config.LOG_LEVEL,
    stream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    }),
  });
  const broker = kafka
    ? createKafkaBroker({ brokers: config.KAFKA_BROKERS, topicPrefix: prefix, logger })
    : createRedisBroker({ url: config.REDIS_URL, keyPrefix: prefix, logger });
  // the archive as the log-archiver has it (root: it creates the database, the schema and the
  // reader), for the tests to store records; the admin gets its own reader
  const archive = createArchive({ ...orient, database });
  await Promise.all([broker.ready(10_000), archive.bootstrap()]);
  await archive.ensureUser({ ...READER, role: 'reader' });
  const readerArchive = openArchiveReader(config);
  const sessions = new SessionStore({
    ttlMs: config.ADMIN_SESSION_TTL_MS,
    maxAgeMs: config.ADMIN_SESSION_MAX_AGE_MS,
    maxSessions: config.ADMIN_MAX_SESSIONS,
  });
  const streams = new LiveStreams({
    maxPerOwner: config.ADMIN_MAX_STREAMS_PER_SESSION,
    maxTotal: config.ADMIN_MAX_STREAMS,
  });
  // the tokens on the shared test Redis (also beside Kafka, as in the stack), under the test's prefix
  const tokenRedis = new Redis(redisUrl());
  const tokens = new TokenStore({ redis: tokenRedis, keyPrefix: testPrefix(file) });
  const app = createApp({
    config,
    broker,
    archive: readerArchive,
    auth: { passwordHash: await hashPassword(TEST_PASSWORD), sessions },
    logger,
    publishAudit: options.publishAudit ?? createAuditPublisher(broker),
    containers: options.containers ?? null,
    ...(options.dockerStatus ? { dockerStatus: options.dockerStatus } : {}),
    ui: options.ui ?? null,
    streams,
    tokens,
  });

  let server: Server | undefined;
  const archivers: ArchiverProcess[] = [];
  return {
    app,
    config,
    broker,
    archive,
    prefix,
    database,
    password: TEST_PASSWORD,
    sessions,
    streams,
    tokens,
    logs: () => output,
    async login() {
      const agent = supertest.agent(app);
      const answer = await agent.post('/api/login').send({ password: TEST_PASSWORD });
      if (answer.status !== 204) {
        throw new Error(`login failed: ${answer.status} ${answer.text}`);
      }
      const setCookie = ([] as string[]).concat(answer.headers['set-cookie'] ?? []);
      const cookie = setCookie.map((line) => line.split(';')[0]!).find((pair) => pair.startsWith('mupets_admin='));
      if (!cookie) {
        throw new Error('login set no mupets_admin cookie');
      }
      const session = await agent.get('/api/session');
      return { agent, csrfToken: (session.body as { csrfToken: string }).csrfToken, cookie };
    },
    async listen() {
      if (!server) {
        const listening = app.listen(0, '127.0.0.1');
        server = listening;
        await new Promise<void>((resolve, reject) => {
          listening.once('listening', resolve);
          listening.once('error', reject);
        });
      }
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async startArchiver() {
      const archiver = await startArchiverProcess(config.REDIS_URL, prefix, { ...orient, database });
      archivers.push(archiver);
      return archiver;
    },
    async close() {
      await streams.closeAll();
      if (server) {
        const closing = server;
        await new Promise<void>((resolve) => {
          closing.close(() => resolve());
          closing.closeAllConnections();
        });
      }
      await Promise.all(archivers.map((archiver) => archiver.kill('SIGTERM')));
      await broker.close();
      await Promise.all([archive.close(), readerArchive.close()]);
      tokenRedis.disconnect();
    },
  };
}

export type { ArchiverProcess };
