import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import { OrientDBClient, type Session } from 'orientjs';
import { createArchive, type Archive } from '@mupets/archive';
import { createRedisBroker, type Broker, type Envelope, type MessageInput } from '@mupets/broker';
import { freePort, spawnTs, waitFor } from '@mupets/testkit';

const MAIN = resolve(__dirname, '../src/main.ts');

export interface OrientTarget {
  host: string;
  port: number;
  username: string;
  password: string;
  database: string;
}

export interface ArchiverProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly healthPort: number;
  /** Everything the process wrote so far (JSON log lines). */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** GET /readyz: true on 200. */
  ready(): Promise<boolean>;
  /** The value of a metric on /metrics (summed over its label sets), 0 when absent. */
  metric(name: string): Promise<number>;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs src/main.ts as a real process against the given Redis and OrientDB; resolves once ready. */
export async function startArchiverProcess(
  redisUrl: string,
  keyPrefix: string,
  orient: OrientTarget,
  extraEnv: Record<string, string> = {},
  options: { waitReady?: boolean } = {},
): Promise<ArchiverProcess> {
  const healthPort = await freePort();
  const proc = spawnTs(MAIN, {
    REDIS_URL: redisUrl,
    BROKER_KEY_PREFIX: keyPrefix,
    ORIENTDB_HOST: orient.host,
    ORIENTDB_PORT: String(orient.port),
    ORIENTDB_USER: orient.username,
    ORIENTDB_PASSWORD: orient.password,
    ORIENTDB_DATABASE: orient.database,
    HEALTH_PORT: String(healthPort),
    HEALTH_HOST: '127.0.0.1',
    ARCHIVER_MIN_IDLE_MS: '3000',
    ARCHIVER_MAX_WAIT_MS: '200',
    LOG_LEVEL: 'info',
    ...extraEnv,
  });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    proc.once('exit', (code, signal) => done({ code, signal })),
  );
  const base = `http://127.0.0.1:${healthPort}`;
  const handle: ArchiverProcess = {
    proc,
    healthPort,
    output: () => output,
    exited,
    async ready() {
      const response = await fetch(`${base}/readyz`).catch(() => undefined);
      return response?.status === 200;
    },
    async metric(name) {
      const text = await (await fetch(`${base}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
          sum += Number(line.slice(line.lastIndexOf(' ') + 1));
        }
      }
      return sum;
    },
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
      }
      return exited;
    },
  };
  if (options.waitReady ?? true) {
    try {
      await waitFor(
        async () => {
          if (proc.exitCode !== null) {
            throw new Error(`log-archiver exited at start: ${output}`);
          }
          return handle.ready();
        },
        { timeoutMs: 60_000, what: 'log-archiver ready', failFast: true },
      );
    } catch (error) {
      // the caller never gets the handle, so nobody else could stop it: a process left running
      // keeps jest from exiting
      await handle.kill('SIGKILL');
      throw new Error(`${(error as Error).message}; its output:\n${output.slice(-4000)}`, { cause: error });
    }
  }
  return handle;
}

/** Runs `work` on a plain orientjs session of the test's database (not the code under test). */
async function withPlainSession<T>(orient: OrientTarget, work: (session: Session) => Promise<T>): Promise<T> {
  const client = await OrientDBClient.connect({ host: orient.host, port: orient.port });
  try {
    const pool = await client.sessions({
      name: orient.database,
      username: orient.username,
      password: orient.password,
      pool: { max: 1 },
    });
    const session = await pool.acquire();
    try {
      return await work(session);
    } finally {
      await session.close();
      await pool.close();
    }
  } finally {
    await client.close();
  }
}

/**
 * The uids of the archived records the test published, read with a plain query. The archiver's own
 * log lines go to the logs channel and into the archive too; they are left out.
 */
export async function storedIds(orient: OrientTarget): Promise<string[]> {
  const rows = await withPlainSession(orient, (session) =>
    session
      .query<{ uid: string }>('SELECT uid FROM Message WHERE service <> :self', { params: { self: 'log-archiver' } })
      .all(),
  );
  return rows.map((row) => row.uid);
}

/**
 * Deletes archived records by envelope id with a plain command: what a killed OrientDB loses of
 * commits it had confirmed.
 */
export async function deleteStored(
  orient: OrientTarget,
  channel: string,
  envelopeIds: readonly string[],
): Promise<void> {
  await withPlainSession(orient, (session) =>
    session
      .command('DELETE FROM Message WHERE uid IN :uids', {
        params: { uids: envelopeIds.map((id) => `${channel}/${id}`) },
      })
      .all(),
  );
}

/** Waits until the archive holds exactly `count` records (fails fast if it holds more). */
export async function waitForStored(orient: OrientTarget, count: number, timeoutMs = 90_000): Promise<string[]> {
  let ids: string[] = [];
  try {
    await waitFor(
      async () => {
        ids = await storedIds(orient).catch(() => ids);
        if (ids.length > count) {
          throw new Error(`archive holds ${ids.length} records, more than the ${count} published`);
        }
        return ids.length === count;
      },
      { timeoutMs, intervalMs: 250, what: `${count} archived records`, failFast: true },
    );
  } catch (error) {
    // what the archive held at the end, not when the wait began
    throw new Error(`${(error as Error).message}; last seen ${ids.length}`, { cause: error });
  }
  return ids;
}

export function brokerFor(url: string, keyPrefix: string): Broker {
  return createRedisBroker({ url, keyPrefix });
}

export function archiveFor(orient: OrientTarget): Archive {
  return createArchive(orient);
}

const SERVICES = ['api', 'billing', 'mailer', 'search'];
const LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** A varied message: service, level, type, data shape and size change with `i`. */
export function mixedMessage(i: number): MessageInput {
  return {
    type: i % 7 === 0 ? 'order.created' : 'log',
    source: { service: SERVICES[i % SERVICES.length]!, instance: `pod-${i % 3}` },
    level: LEVELS[i % LEVELS.length],
    message: `request ${i} handled in ${i % 97} ms${i % 11 === 0 ? ' — ünïcødé ✓' : ''}`,
    data: i % 2 === 0 ? { i, path: `/orders/${i}`, tags: ['a', 'b'], nested: { deep: { n: i } } } : { i },
  };
}

/** Every entry of a stream, straight from Redis. */
export async function readStream(url: string, key: string): Promise<Array<{ id: string; fields: string[] }>> {
  const redis = new Redis(url);
  try {
    const rows = await redis.xrange(key, '-', '+');
    return rows.map(([id, fields]) => ({ id, fields }));
  } finally {
    redis.disconnect();
  }
}

export type { Envelope };
