import { Agent, request } from 'node:http';
import { createRedisBroker, type Broker } from '@mupets/broker';
import { redisUrl, testPrefix } from '@mupets/testkit';
import { createHealthServer, createMetricsRegistry, type HealthCheck, type HealthServer } from '../src';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('health server', () => {
  // keep-alive, like a real prober or Prometheus: close() must still end these connections
  const agent = new Agent({ keepAlive: true });
  const servers: HealthServer[] = [];
  let broker: Broker;

  beforeAll(async () => {
    broker = createRedisBroker({ url: redisUrl(), keyPrefix: testPrefix(__filename) });
    await broker.ready(10_000);
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
    agent.destroy();
    await broker.close();
  });

  async function start(checks: Record<string, HealthCheck>): Promise<number> {
    const server = createHealthServer({
      port: 0,
      host: '127.0.0.1',
      checks,
      checkTimeoutMs: 200,
      registry: createMetricsRegistry({ service: 'health-it' }),
    });
    servers.push(server);
    const { port } = await server.listen();
    expect(port).toBeGreaterThan(0);
    return port;
  }

  function call(port: number, path: string, method = 'GET'): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('answers liveness, readiness with a real Redis check, and 404/405', async () => {
    const port = await start({ redis: () => broker.ready(500) });

    const live = await call(port, '/healthz');
    expect(live.status).toBe(200);
    expect(live.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(live.body)).toEqual({ status: 'ok' });

    const ready = await call(port, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready', checks: { redis: { ok: true } } });

    const missing = await call(port, '/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ status: 'not_found' });

    const post = await call(port, '/healthz', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(post.body)).toMatchObject({ status: 'method_not_allowed' });
  });

  it('is not ready when a check fails or does not answer in time, and says which', async () => {
    const port = await start({
      redis: () => broker.ready(500),
      archive: () => Promise.reject(new Error('orientdb unreachable')),
      hanging: () => new Promise<void>(() => undefined),
      throwing: () => {
        throw new Error('thrown synchronously');
      },
    });
    const reply = await call(port, '/readyz');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body)).toEqual({
      status: 'not_ready',
      checks: {
        redis: { ok: true },
        archive: { ok: false, error: 'orientdb unreachable' },
        hanging: { ok: false, error: 'timed out after 200 ms' },
        throwing: { ok: false, error: 'thrown synchronously' },
      },
    });
    // liveness does not depend on the checks
    expect((await call(port, '/healthz')).status).toBe(200);
  });

  it('serves Prometheus metrics with the default process metrics and the service label', async () => {
    const port = await start({});
    const reply = await call(port, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(reply.body).toMatch(/^process_cpu_user_seconds_total\{service="health-it"\} \d/m);
    expect(reply.body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('closes with keep-alive connections open, and close is idempotent', async () => {
    const server = createHealthServer({ port: 0, host: '127.0.0.1', checks: {}, closeGraceMs: 60_000 });
    const { port } = await server.listen();
    await call(port, '/healthz');
    // the agent holds the socket idle; close() must not wait for the keep-alive timeout or the grace
    await server.close();
    await server.close();
    await expect(call(port, '/healthz')).rejects.toThrow(/ECONNREFUSED|socket hang up|ECONNRESET/);
  });
});
