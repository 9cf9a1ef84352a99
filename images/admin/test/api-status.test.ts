import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import supertest from 'supertest';
import { createRedisBroker } from '@mupets/broker';
import { freePort } from '@mupets/testkit';
import { createApp } from '../src/app';
import { openArchiveReader } from '../src/archive/archive-reader';
import { createAuditPublisher } from '../src/audit';
import { hashPassword } from '../src/auth/password';
import { SessionStore } from '../src/auth/session-store';
import { loadAdminConfig } from '../src/config';
import { bodyOf, errorOf, startTestAdmin, TEST_PASSWORD, type TestAdmin } from './helpers';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

describe('GET /api/status with every dependency up', () => {
  let admin: TestAdmin;
  let studio: Server;

  beforeAll(async () => {
    studio = createServer((_request, response) => response.writeHead(200).end('studio'));
    await new Promise<void>((resolve) => studio.listen(0, '127.0.0.1', resolve));
    const studioUrl = `http://127.0.0.1:${(studio.address() as AddressInfo).port}/studio/index.html`;
    // the link is the browser's address (in compose: the host's port, unreachable from the admin);
    // the check goes where the admin reaches Studio
    const linkOnly = `http://127.0.0.1:${await freePort()}/studio/index.html`;
    admin = await startTestAdmin({
      file: __filename,
      env: { ADMIN_STUDIO_URL: linkOnly, ADMIN_STUDIO_CHECK_URL: studioUrl },
      dockerStatus: () => Promise.resolve({ ok: true, project: 'mupets' }),
    });
  });

  afterAll(async () => {
    await admin.close();
    await new Promise((resolve) => studio.close(resolve));
  });

  test('broker, archive, docker and studio all ok', async () => {
    const { agent } = await admin.login();
    const answer = await agent.get('/api/status');
    expect(answer.status).toBe(200);
    expect(bodyOf(answer)).toEqual({
      broker: { ok: true, backend: 'redis' },
      archive: { ok: true },
      docker: { ok: true, project: 'mupets' },
      studio: { url: admin.config.ADMIN_STUDIO_URL, reachable: true },
    });
    expect(admin.config.ADMIN_STUDIO_URL).not.toBe(admin.config.ADMIN_STUDIO_CHECK_URL);
  });
});

describe('a dependency down: its routes answer 503, the rest of the admin keeps working', () => {
  test('Redis and OrientDB unreachable, Docker not configured', async () => {
    const [redisPort, orientPort, studioPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const config = loadAdminConfig({
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ORIENTDB_HOST: '127.0.0.1',
      ORIENTDB_PORT: String(orientPort),
      ORIENTDB_PASSWORD: 'unused',
      ADMIN_STUDIO_URL: `http://127.0.0.1:${studioPort}/`,
    });
    const broker = createRedisBroker({ url: config.REDIS_URL, publishTimeoutMs: 1000, closeTimeoutMs: 100 });
    const archive = openArchiveReader(config);
    const app = createApp({
      config,
      broker,
      archive,
      auth: {
        passwordHash: await hashPassword(TEST_PASSWORD),
        sessions: new SessionStore({ ttlMs: 60_000, maxSessions: 10 }),
      },
      logger: silent,
      publishAudit: createAuditPublisher(broker),
    });
    try {
      const agent = supertest.agent(app);
      expect((await agent.post('/api/login').send({ password: TEST_PASSWORD })).status).toBe(204);
      const csrfToken = bodyOf<{ csrfToken: string }>(await agent.get('/api/session')).csrfToken;

      const status = await agent.get('/api/status');
      expect(status.status).toBe(200);
      expect(bodyOf(status)).toMatchObject({
        broker: { ok: false, backend: 'redis', error: expect.any(String) },
        archive: { ok: false, error: expect.any(String) },
        docker: { ok: false, project: null, error: 'docker is not configured' },
        studio: { reachable: false },
      });

      const search = await agent.get('/api/archive/search');
      expect(search.status).toBe(503);
      expect(errorOf(search).code).toBe('archive_unavailable');
      const submit = await agent.post('/api/events').set('x-csrf-token', csrfToken).send({ type: 'x' });
      expect(submit.status).toBe(503);
      expect(errorOf(submit).code).toBe('broker_unavailable');
      const containers = await agent.get('/api/containers');
      expect(containers.status).toBe(503);
      expect(errorOf(containers).code).toBe('docker_unavailable');
      const ready = await supertest(app).get('/readyz');
      expect(ready.status).toBe(503);
      // public: the status only, no dependency's error text (addresses, the OrientDB user); the
      // shape every cargo service's /readyz has (@mupets/cargo)
      expect(bodyOf(ready)).toEqual({
        status: 'not_ready',
        checks: { broker: { ok: false }, archive: { ok: false } },
      });
      // with a session: why
      const readyWithSession = await agent.get('/readyz');
      expect(readyWithSession.status).toBe(503);
      expect(bodyOf(readyWithSession)).toMatchObject({
        checks: { broker: { ok: false, error: expect.any(String) }, archive: { ok: false, error: expect.any(String) } },
      });
      expect((await supertest(app).get('/healthz')).status).toBe(200);
    } finally {
      await broker.close();
      await archive.close();
    }
  });
});
