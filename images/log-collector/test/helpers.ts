import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import type Redis from 'ioredis';
import type { Envelope } from '@mupets/broker';
import { freePort, spawnTs, waitFor } from '@mupets/testkit';

const MAIN = resolve(__dirname, '../src/main.ts');

export interface CollectorProcess {
  readonly proc: ChildProcessWithoutNullStreams;
  output(): string;
  /** GET /readyz: true on 200. */
  ready(): Promise<boolean>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Runs src/main.ts as a real process; resolves once /readyz says ready. */
export async function startCollectorProcess(env: Record<string, string>): Promise<CollectorProcess> {
  const healthPort = await freePort();
  const proc = spawnTs(MAIN, {
    HEALTH_PORT: String(healthPort),
    HEALTH_HOST: '127.0.0.1',
    COLLECTOR_HOST_NAME: 'test-node',
    COLLECTOR_MULTILINE_WAIT_MS: '100',
    LOG_LEVEL: 'info',
    ...env,
  });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  const handle: CollectorProcess = {
    proc,
    output: () => output,
    async ready() {
      const response = await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined);
      return response?.status === 200;
    },
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
      }
      await exited;
    },
  };
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) {
          throw new Error('log-collector exited at start');
        }
        return handle.ready();
      },
      { timeoutMs: 60_000, what: 'log-collector ready', failFast: true },
    );
  } catch (error) {
    await handle.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; its output:\n${output.slice(-4000)}`, { cause: error });
  }
  return handle;
}

/** Every envelope stored on a stream, read with plain XRANGE (not through the code under test). */
export async function streamEnvelopes(redis: Redis, key: string): Promise<Envelope[]> {
  const envelopes: Envelope[] = [];
  let start = '-';
  for (;;) {
    const page = await redis.xrange(key, start, '+', 'COUNT', 5000);
    for (const [, fields] of page) {
      envelopes.push(JSON.parse(fields[fields.indexOf('e') + 1]!) as Envelope);
    }
    if (page.length < 5000) {
      return envelopes;
    }
    start = `(${page[page.length - 1]![0]}`;
  }
}

/** Busybox shell that runs `body`, then idles until SIGTERM (so a container can be stopped quickly). */
export function shellThenIdle(body: string): string[] {
  return ['/bin/sh', '-c', `trap "exit 0" TERM; ${body}; while true; do sleep 1; done`];
}
