import Docker from 'dockerode';
import supertest from 'supertest';
import { BrokerClosedError, type Envelope } from '@mupets/broker';
import { containerIdFromMountinfo, type LogLine } from '@mupets/cargo';
import {
  buildBusyboxImage,
  composeLabels,
  runLooper,
  startDockerd,
  TEST_IMAGE,
  waitFor,
  type Dockerd,
} from '@mupets/testkit';
import { createAuditPublisher, type PublishAudit } from '../src/audit';
import { compareTimestamps, createContainerService, type ContainerService } from '../src/containers/container-service';
import { createContainersRouter, dockerStatus } from '../src/containers/containers.router';
import { ContainerNotFoundError, DockerUnavailableError } from '../src/containers/container-errors';
import type { AppLogger } from '../src/logger';
import { startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';
import { openSse, type SseClient, type SseEvent } from './sse-client';

const PROJECT = 'mupetstest';
const quiet: AppLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

let dockerd: Dockerd;
let docker: Docker;
let service: ContainerService;
let admin: TestAdmin;
let client: LoggedIn;
let baseUrl: string;
const ids: Record<'web' | 'worker' | 'foreign' | 'loose', string> = { web: '', worker: '', foreign: '', loose: '' };
const WEB = `${PROJECT}_web_1`;
const WORKER = `${PROJECT}_worker_1`;
const FOREIGN = 'otherproject_web_1';
const LOOSE = 'loose';

/** The router's audit publisher delegates to the admin's own (real) one once the admin exists. */
let publishAudit: PublishAudit = () => Promise.reject(new Error('admin not started'));

beforeAll(async () => {
  dockerd = await startDockerd();
  docker = new Docker({ socketPath: dockerd.socketPath });
  await buildBusyboxImage(docker);
  const [web, worker, foreign, loose] = await Promise.all([
    runLooper(docker, { name: WEB, labels: composeLabels(PROJECT, 'web'), healthcheck: true }),
    runLooper(docker, { name: WORKER, labels: composeLabels(PROJECT, 'worker') }),
    runLooper(docker, { name: FOREIGN, labels: composeLabels('otherproject', 'web') }),
    runLooper(docker, { name: LOOSE }),
  ]);
  Object.assign(ids, { web: web.id, worker: worker.id, foreign: foreign.id, loose: loose.id });

  service = createContainerService({ socketPath: dockerd.socketPath, project: PROJECT, logger: quiet });
  admin = await startTestAdmin({
    file: __filename,
    containers: createContainersRouter({
      docker: service,
      publishAudit: (action, target, extra) => publishAudit(action, target, extra),
      logger: quiet,
      // the default: ample for a restart to come back even on a busy machine; a stop ends a follow after it
      reattachWindowMs: 10_000,
    }),
    dockerStatus: () => dockerStatus(service),
  });
  publishAudit = createAuditPublisher(admin.broker);
  client = await admin.login();
  baseUrl = await admin.listen();
});

afterAll(async () => {
  await admin?.close();
  await dockerd?.stop();
});

async function startedAt(id: string): Promise<string> {
  return (await docker.getContainer(id).inspect()).State.StartedAt;
}

async function state(id: string): Promise<string> {
  return (await docker.getContainer(id).inspect()).State.Status;
}

function post(path: string, body: unknown) {
  return client.agent
    .post(path)
    .set('X-CSRF-Token', client.csrfToken)
    .send(body as object);
}

/** Audit events of the admin's `audit` channel about `target`. */
async function auditEvents(target: string): Promise<Envelope[]> {
  const entries = await admin.broker.range('audit', { count: 10_000 });
  return entries
    .map((entry) => entry.envelope)
    .filter((envelope) => envelope.type === 'admin.audit' && envelope.data?.target === target);
}

/** The shared SSE test client on an admin path, with the session cookie. */
const follow = (path: string, lastEventId?: string): Promise<SseClient> =>
  openSse(`${baseUrl}${path}`, client.cookie, lastEventId);

const lineOf = (event: SseEvent): LogLine => JSON.parse(event.data) as LogLine;

describe('containers API on a real (private) dockerd', () => {
  it('lists only the compose project containers, with service, image, state, health, uptime', async () => {
    // the healthcheck runs every 500 ms: wait until Docker reports it
    const body = await waitFor(
      async () => {
        const answer = await client.agent.get('/api/containers').expect(200);
        const list = answer.body as { containers: Array<{ name: string; health: string | null }> };
        return list.containers.find((c) => c.name === WEB)?.health === 'healthy' ? list : undefined;
      },
      { timeoutMs: 30_000, what: 'the web container to be healthy' },
    );
    expect(body).toEqual({
      project: PROJECT,
      containers: [
        {
          id: ids.web,
          name: WEB,
          service: 'web',
          image: TEST_IMAGE,
          state: 'running',
          status: expect.stringMatching(/^Up /),
          health: 'healthy',
          startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          uptimeSeconds: expect.any(Number),
          ports: [],
        },
        {
          id: ids.worker,
          name: WORKER,
          service: 'worker',
          image: TEST_IMAGE,
          state: 'running',
          status: expect.stringMatching(/^Up /),
          health: null,
          startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          uptimeSeconds: expect.any(Number),
          ports: [],
        },
      ],
    });
  });

  it('answers stats: CPU % and memory, sane numbers', async () => {
    const answer = await client.agent.get(`/api/containers/${ids.worker}/stats`).expect(200);
    const stats = answer.body as { cpuPercent: number; memoryBytes: number; memoryLimitBytes: number };
    expect(Object.keys(stats).sort()).toEqual(['cpuPercent', 'memoryBytes', 'memoryLimitBytes']);
    expect(stats.cpuPercent).toBeGreaterThanOrEqual(0);
    // at most every CPU of the host fully busy
    expect(stats.cpuPercent).toBeLessThanOrEqual(100 * ((await docker.info()) as { NCPU: number }).NCPU);
    expect(stats.memoryBytes).toBeGreaterThan(0);
    expect(stats.memoryBytes).toBeLessThan(stats.memoryLimitBytes);
    // accepts a name as well as an id
    await client.agent.get(`/api/containers/${WORKER}/stats`).expect(200);
  });

  it('answers recent logs: stdout and stderr lines the container printed, with timestamps', async () => {
    await waitFor(
      async () => (await docker.getContainer(ids.worker).logs({ stdout: true, stderr: true, tail: 5 })).length > 0,
      { what: 'output' },
    );
    const answer = await client.agent.get(`/api/containers/${ids.worker}/logs?tail=20`).expect(200);
    const { lines } = answer.body as { lines: LogLine[] };
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(20);
    for (const line of lines) {
      expect(line.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
      expect(line.text).toMatch(
        line.stream === 'stdout' ? /^mupetstest_worker_1 out \d+$/ : /^mupetstest_worker_1 err \d+$/,
      );
    }
    await waitFor(
      async () => {
        const again = (await client.agent.get(`/api/containers/${WORKER}/logs?tail=20`).expect(200)).body as {
          lines: LogLine[];
        };
        return new Set(again.lines.map((line) => line.stream)).size === 2;
      },
      { what: 'both streams in the tail' },
    );
  });

  it('follows logs over SSE: new lines arrive, numbered after the ones already printed', async () => {
    const before = (await client.agent.get(`/api/containers/${ids.web}/logs?tail=1`).expect(200)).body as {
      lines: LogLine[];
    };
    const lastBefore = Number(/(\d+)$/.exec(before.lines.at(-1)!.text)![1]);
    const sse = await follow(`/api/containers/${ids.web}/logs?follow=1&tail=0`);
    try {
      expect(sse.status).toBe(200);
      expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
      const fresh = await waitFor(
        () =>
          sse.events
            .filter((event) => event.event === 'line')
            .map(lineOf)
            .find((line) => line.stream === 'stdout' && Number(/(\d+)$/.exec(line.text)![1]) > lastBefore),
        { what: 'a new line over SSE' },
      );
      expect(fresh.text).toMatch(/^mupetstest_web_1 out \d+$/);
      expect(sse.events.find((event) => event.event === 'line')!.id).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      sse.close();
    }
  });

  it('resumes a follow after Last-Event-ID: every line after it, none before', async () => {
    const { lines } = (await client.agent.get(`/api/containers/${ids.web}/logs?tail=10`).expect(200)).body as {
      lines: LogLine[];
    };
    const cursor = lines[4]!;
    const sse = await follow(`/api/containers/${ids.web}/logs?follow=1`, cursor.ts);
    try {
      const resumed = await waitFor(
        () => {
          const got = sse.events.filter((event) => event.event === 'line').map(lineOf);
          return got.length >= 8 ? got : undefined;
        },
        { what: 'the resumed lines' },
      );
      // Docker trims trailing zeros of the nanoseconds: compare as times, not as strings
      expect(resumed.every((line) => compareTimestamps(line.ts, cursor.ts) > 0)).toBe(true);
      const texts = resumed.map((line) => line.text);
      for (const later of lines.slice(5).filter((line) => compareTimestamps(line.ts, cursor.ts) > 0)) {
        expect(texts).toContain(later.text);
      }
      expect(texts).not.toContain(cursor.text);
    } finally {
      sse.close();
    }
    const bad = await client.agent
      .get(`/api/containers/${ids.web}/logs?follow=1`)
      .set('Last-Event-ID', 'yesterday')
      .expect(400);
    expect(bad.body).toMatchObject({ error: { code: 'invalid_input', issues: [{ field: 'Last-Event-ID' }] } });
  });

  it('restarts after the right confirmation: StartedAt changes, audit events on the audit channel; a follow re-attaches', async () => {
    const started = await startedAt(ids.worker);
    const sse = await follow(`/api/containers/${ids.worker}/logs?follow=1&tail=0`);
    try {
      const wrong = await post(`/api/containers/${ids.worker}/restart`, { confirm: WEB }).expect(400);
      expect(wrong.body).toMatchObject({
        error: { code: 'invalid_input', issues: [{ field: 'confirm', rule: 'match' }] },
      });
      const missing = await post(`/api/containers/${ids.worker}/restart`, {}).expect(400);
      expect(missing.body).toMatchObject({ error: { code: 'invalid_input', issues: [{ field: 'confirm' }] } });
      expect(await startedAt(ids.worker)).toBe(started);

      const answer = await post(`/api/containers/${ids.worker}/restart`, { confirm: WORKER }).expect(202);
      expect(answer.body).toMatchObject({
        id: ids.worker,
        name: WORKER,
        action: 'restart',
        state: 'running',
        audit: 'recorded',
      });
      const restartedAt = await startedAt(ids.worker);
      expect(restartedAt).not.toBe(started);
      expect(Date.parse(restartedAt)).toBeGreaterThan(Date.parse(started));

      const events = await auditEvents(WORKER);
      expect(events.map((event) => event.data)).toEqual([
        {
          action: 'container.restart',
          target: WORKER,
          id: ids.worker,
          project: PROJECT,
          service: 'worker',
          outcome: 'requested',
        },
        {
          action: 'container.restart',
          target: WORKER,
          id: ids.worker,
          project: PROJECT,
          service: 'worker',
          outcome: 'succeeded',
          changed: true,
        },
      ]);
      expect(events[0]).toMatchObject({ channel: 'audit', source: { service: 'admin' } });

      // the counter starts again at 1 in the new run: the follow re-attached to it
      await waitFor(
        () =>
          sse.events
            .filter((event) => event.event === 'line')
            .map(lineOf)
            .some((line) => line.text === `${WORKER} out 1`),
        { timeoutMs: 30_000, what: 'the first line after the restart over the same SSE' },
      );
      expect(sse.isEnded).toBe(false);
    } finally {
      sse.close();
    }
  });

  it('stops and starts; a follow of a stopped container ends with event end', async () => {
    const sse = await follow(`/api/containers/${WEB}/logs?follow=1&tail=0`);
    const stopped = await post(`/api/containers/${WEB}/stop`, { confirm: WEB }).expect(202);
    expect(stopped.body).toMatchObject({ action: 'stop', state: 'exited', changed: true });
    expect(await state(ids.web)).toBe('exited');
    // again: nothing to do, said so
    const again = await post(`/api/containers/${WEB}/stop`, { confirm: WEB }).expect(202);
    expect(again.body).toMatchObject({ action: 'stop', state: 'exited', changed: false });

    const listed = (await client.agent.get('/api/containers').expect(200)).body as {
      containers: Array<{ name: string; state: string; uptimeSeconds: number | null }>;
    };
    expect(listed.containers.find((c) => c.name === WEB)).toMatchObject({ state: 'exited', uptimeSeconds: null });
    const stats = (await client.agent.get(`/api/containers/${WEB}/stats`).expect(200)).body as { cpuPercent: number };
    expect(stats.cpuPercent).toBe(0);

    // the container did not come back within the re-attach window: the stream ends
    await waitFor(() => sse.isEnded || undefined, { timeoutMs: 30_000, what: 'the follow to end' });
    expect(sse.events.at(-1)).toEqual({ event: 'end', data: JSON.stringify({ reason: 'stopped' }) });

    const started = await post(`/api/containers/${WEB}/start`, { confirm: WEB }).expect(202);
    expect(started.body).toMatchObject({ action: 'start', state: 'running', changed: true });
    expect(await state(ids.web)).toBe('running');
    expect((await auditEvents(WEB)).map((event) => [event.data?.action, event.data?.outcome])).toEqual([
      ['container.stop', 'requested'],
      ['container.stop', 'succeeded'],
      ['container.stop', 'requested'],
      ['container.stop', 'succeeded'],
      ['container.start', 'requested'],
      ['container.start', 'succeeded'],
    ]);
  });

  it('answers 404 for a container of another project or of none, on every route, and leaves it untouched', async () => {
    for (const [id, name] of [
      [ids.foreign, FOREIGN],
      [ids.loose, LOOSE],
    ] as const) {
      const before = await startedAt(id);
      for (const ref of [id, id.slice(0, 12), name]) {
        for (const path of [`/${ref}/stats`, `/${ref}/logs`, `/${ref}/logs?follow=1`]) {
          const answer = await client.agent.get(`/api/containers${path}`).expect(404);
          expect(answer.body).toMatchObject({ error: { code: 'not_found' } });
        }
        for (const action of ['start', 'stop', 'restart']) {
          const answer = await post(`/api/containers/${ref}/${action}`, { confirm: name }).expect(404);
          expect(answer.body).toMatchObject({ error: { code: 'not_found' } });
        }
      }
      expect(await state(id)).toBe('running');
      expect(await startedAt(id)).toBe(before);
      expect(await auditEvents(name)).toEqual([]);
    }
    // and a container that does not exist at all looks the same
    await client.agent.get('/api/containers/nosuchcontainer/stats').expect(404);
  });

  it('answers 400 naming the field for an invalid id or query', async () => {
    for (const ref of ['-leading-dash', 'a%20b', '%2e%2e', 'x'.repeat(200), 'a%3Fb']) {
      const answer = await client.agent.get(`/api/containers/${ref}/stats`).expect(400);
      expect(answer.body).toMatchObject({ error: { code: 'invalid_input', issues: [{ field: 'id' }] } });
    }
    const invalid = await post('/api/containers/-x/restart', { confirm: '-x' }).expect(400);
    expect(invalid.body).toMatchObject({ error: { issues: [{ field: 'id' }] } });
    for (const query of ['tail=-1', 'tail=5001', 'tail=abc', 'follow=yes']) {
      const answer = await client.agent.get(`/api/containers/${ids.web}/logs?${query}`).expect(400);
      const field = query.split('=')[0];
      expect(answer.body).toMatchObject({ error: { code: 'invalid_input', issues: [{ field }] } });
    }
    const extra = await post(`/api/containers/${ids.web}/restart`, { confirm: WEB, force: true }).expect(400);
    expect(extra.body).toMatchObject({ error: { code: 'invalid_input' } });
  });

  it('refuses an action whose audit event cannot be recorded, and does not act', async () => {
    const before = await startedAt(ids.worker);
    const saved = publishAudit;
    // what the real publisher rejects with once its broker is closed
    publishAudit = () => Promise.reject(new BrokerClosedError());
    try {
      const answer = await post(`/api/containers/${ids.worker}/restart`, { confirm: WORKER }).expect(503);
      expect(answer.body).toMatchObject({ error: { code: 'broker_unavailable' } });
      expect((answer.body as { error: { message: string } }).error.message).toMatch(/not restarted/);
    } finally {
      publishAudit = saved;
    }
    expect(await startedAt(ids.worker)).toBe(before);
  });

  it('needs a session (and a CSRF token to act)', async () => {
    await supertest(admin.app).get('/api/containers').expect(401);
    await client.agent.post(`/api/containers/${ids.worker}/restart`).send({ confirm: WORKER }).expect(403);
  });

  it('detects the project from the container it runs in, by the mounts Docker made for it, never its hostname', async () => {
    // a container of the project whose hostname is another project's container's short id (compose
    // `hostname:`, `docker run -h`): what it reads in its own /proc/self/mountinfo names it all the same
    const self = await docker.createContainer({
      Image: TEST_IMAGE,
      Hostname: ids.foreign.slice(0, 12),
      Tty: true,
      Cmd: ['cat', '/proc/self/mountinfo'],
      Labels: composeLabels(PROJECT, 'admin'),
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await self.start();
      await self.wait();
      const mountinfo = (await self.logs({ stdout: true })).toString('utf8');
      expect(containerIdFromMountinfo(mountinfo)).toBe(self.id);
      const inside = createContainerService({
        socketPath: dockerd.socketPath,
        ownContainerId: () => Promise.resolve(containerIdFromMountinfo(mountinfo)),
        logger: quiet,
      });
      expect(await inside.status()).toEqual({ ok: true, project: PROJECT });
      expect((await inside.get(ids.web)).name).toBe(WEB);
      await expect(inside.get(ids.foreign)).rejects.toBeInstanceOf(ContainerNotFoundError);
    } finally {
      await self.remove({ force: true });
    }

    // outside any container, in a container without a project, in one of another Docker: off, never everything
    for (const id of [undefined, ids.loose, 'a'.repeat(64)]) {
      const outside = createContainerService({
        socketPath: dockerd.socketPath,
        ownContainerId: () => Promise.resolve(id),
        logger: quiet,
      });
      const status = await outside.status();
      expect(status).toMatchObject({ ok: false, project: null });
      expect(status.error).toMatch(/ADMIN_COMPOSE_PROJECT/);
      await expect(outside.list()).rejects.toBeInstanceOf(DockerUnavailableError);
      await expect(outside.get(ids.web)).rejects.toBeInstanceOf(DockerUnavailableError);
    }
  });

  it('answers 503 docker_unavailable when Docker is unreachable, while the rest of the admin works', async () => {
    const gone = createContainerService({ socketPath: `${dockerd.dir}/no-such.sock`, project: PROJECT, logger: quiet });
    const other = await startTestAdmin({
      file: __filename,
      containers: createContainersRouter({ docker: gone, publishAudit: () => Promise.resolve(), logger: quiet }),
      dockerStatus: () => dockerStatus(gone),
    });
    try {
      const login = await other.login();
      for (const path of ['', `/${ids.web}/stats`, `/${ids.web}/logs`, `/${ids.web}/logs?follow=1`]) {
        const answer = await login.agent.get(`/api/containers${path}`).expect(503);
        expect(answer.body).toMatchObject({ error: { code: 'docker_unavailable' } });
      }
      const action = await login.agent
        .post(`/api/containers/${ids.web}/restart`)
        .set('X-CSRF-Token', login.csrfToken)
        .send({ confirm: WEB })
        .expect(503);
      expect(action.body).toMatchObject({ error: { code: 'docker_unavailable' } });

      const status = (await login.agent.get('/api/status').expect(200)).body as {
        broker: { ok: boolean };
        docker: { ok: boolean; error?: string };
      };
      expect(status.broker.ok).toBe(true);
      expect(status.docker).toMatchObject({ ok: false });
      expect(status.docker.error).toMatch(/unreachable/);
      await login.agent
        .post('/api/events')
        .set('X-CSRF-Token', login.csrfToken)
        .send({ type: 'test.still-works', data: { n: 1 } })
        .expect(202);
    } finally {
      await other.close();
    }
    // without any Docker configured, the same answer
    expect(await dockerStatus(null)).toEqual({ ok: false, project: null, error: 'docker is not configured' });
  });
});
