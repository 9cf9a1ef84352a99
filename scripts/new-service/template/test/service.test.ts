// The service as a real process (its own main.ts, through ts-node) against the real Redis of the jest
// global setup, checked from outside: through its HTTP API and the channels it reads and writes.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
// <http>
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// </http>
import { resolve } from 'node:path';
import { createRedisBroker, type Broker, type StreamEntry } from '@mupets/broker';
import { freePort, redisUrl, spawnTs, testPrefix, waitFor } from '@mupets/testkit';
import {
  // <consume>
  GREETED,
  // </consume>
  GREETING_REQUESTED,
} from '../src/greeting';

const SERVICE = 'cargo-template';
const CHANNEL = 'greeting-requests';
// <consume>
const EVENTS = 'greetings';
// </consume>
const prefix = testPrefix(__filename);
// <http>
const secrets = mkdtempSync(join(tmpdir(), `${SERVICE}-secrets-`));
// </http>
let broker: Broker;

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Run {
  const child = spawnTs(resolve(__dirname, '../src/main.ts'), { LOG_FORMAT: 'json', ...env });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function entries(channel: string): Promise<StreamEntry[]> {
  return broker.range(channel, { count: 1000 });
}

beforeAll(async () => {
  broker = createRedisBroker({ url: redisUrl(), keyPrefix: prefix });
  await broker.ready(5000);
});

afterAll(async () => {
  await broker.close();
  // <http>
  rmSync(secrets, { recursive: true, force: true });
  // </http>
});

test('an invalid configuration stops it with every problem listed, and exit code 1', async () => {
  const run = start({
    REDIS_URL: 'http://not-redis',
    HEALTH_PORT: 'eighty',
    // <consume>
    CARGO_TEMPLATE_MAX_DELIVERIES: '0',
    // </consume>
  });
  expect(await run.exited).toBe(1);
  expect(run.stderr()).toMatch(/REDIS_URL: /);
  expect(run.stderr()).toMatch(/HEALTH_PORT: /);
  // <consume>
  expect(run.stderr()).toMatch(/CARGO_TEMPLATE_MAX_DELIVERIES: must be at least 1/);
  // </consume>
  // <http>
  expect(run.stderr()).toMatch(/CARGO_TEMPLATE_API_TOKEN: /);
  // </http>
});

describe('running', () => {
  let run: Run;
  let healthPort: number;
  // <http>
  let apiPort: number;
  const token = 'test-token-0123456789abcdef';

  async function post(body: unknown, authorization = `Bearer ${token}`): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${apiPort}/api/greetings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json() };
  }
  // </http>

  beforeAll(async () => {
    healthPort = await freePort();
    // <http>
    apiPort = await freePort();
    // the secret comes from a file, as Docker secrets provide it
    writeFileSync(join(secrets, 'api-token'), `${token}\n`);
    // </http>
    run = start({
      REDIS_URL: redisUrl(),
      BROKER_KEY_PREFIX: prefix,
      HEALTH_PORT: String(healthPort),
      HEALTH_HOST: '127.0.0.1',
      CARGO_TEMPLATE_CHANNEL: CHANNEL,
      // <consume>
      CARGO_TEMPLATE_EVENTS_CHANNEL: EVENTS,
      CARGO_TEMPLATE_MAX_DELIVERIES: '2',
      // </consume>
      // <http>
      CARGO_TEMPLATE_PORT: String(apiPort),
      CARGO_TEMPLATE_HOST: '127.0.0.1',
      CARGO_TEMPLATE_API_TOKEN_FILE: join(secrets, 'api-token'),
      // </http>
    });
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status === 200,
      { timeoutMs: 60_000, what: `${SERVICE} ready; stderr: ${run.stderr()}` },
    );
  });

  afterAll(async () => {
    if (run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
  });

  test('its log lines reach the logs channel', async () => {
    const started = await waitFor(
      async () => (await entries('logs')).find((entry) => entry.envelope.message === 'service started'),
      { what: 'the "service started" line on the logs channel' },
    );
    expect(started.envelope.source.service).toBe(SERVICE);
  });

  // <http>
  test('POST /api/greetings publishes a request once the broker stored it; bad input and no token are refused', async () => {
    expect((await post({ name: 'Ada' }, 'Bearer wrong')).status).toBe(401);
    const bad = await post({ name: '' });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'invalid_input', issues: [{ field: 'name' }] });

    const accepted = await post({ name: 'Ada' });
    expect(accepted.status).toBe(202);
    const { id, brokerId } = accepted.body as { id: string; brokerId: string };
    const stored = (await entries(CHANNEL)).find((entry) => entry.id === brokerId);
    expect(stored?.envelope).toMatchObject({ id, type: GREETING_REQUESTED, data: { name: 'Ada' } });
  });
  // </http>

  // <consume>
  test('a request is answered with a greeting whose id derives from the request id; redelivery gives the same id', async () => {
    const request = {
      id: `request-${prefix}`,
      type: GREETING_REQUESTED,
      source: { service: 'test' },
      data: { name: 'Grace' },
    };
    // the same envelope twice, as a producer retrying after a lost answer would send it
    await broker.publish(CHANNEL, [request, request]);
    const greetings = await waitFor(
      async () => {
        const found = (await entries(EVENTS)).filter((entry) => entry.envelope.data?.requestId === request.id);
        return found.length === 2 ? found : undefined;
      },
      { what: 'two greetings for the request' },
    );
    expect(greetings[0]!.envelope).toMatchObject({ type: GREETED, message: 'Hello, Grace!' });
    expect(greetings[1]!.envelope.id).toBe(greetings[0]!.envelope.id);
  });

  test('a request with bad data goes to the dead-letter channel with the reason; later ones flow on', async () => {
    const [badId] = await broker.publish(CHANNEL, [
      { type: GREETING_REQUESTED, source: { service: 'test' }, data: { nom: 'typo' } },
      { type: GREETING_REQUESTED, source: { service: 'test' }, data: { name: 'Linus' } },
    ]);
    const dead = await waitFor(async () => (await entries(broker.deadLetterChannel(CHANNEL)))[0], {
      what: 'a dead letter',
    });
    expect(dead.envelope.message).toMatch(/data\./);
    expect(dead.envelope.data).toMatchObject({ originalChannel: CHANNEL, originalId: badId });
    await waitFor(async () => (await entries(EVENTS)).some((entry) => entry.envelope.message === 'Hello, Linus!'), {
      what: 'the greeting published after the bad request',
    });
  });
  // </consume>

  test('SIGTERM: a clean, phased shutdown and exit code 0', async () => {
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('shutdown complete');
  });
});
