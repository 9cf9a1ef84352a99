import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export interface RedisServerOptions {
  /** Persist every write to an append-only file, fsynced before the reply (survives SIGKILL). */
  appendOnly?: boolean;
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Kills the server (SIGKILL by default) and waits until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it for good and removes its data directory. */
  destroy(): Promise<void>;
}

const INSTALL_HINT = 'redis-server is not installed: run `apt-get install -y redis-server` (Debian/Ubuntu)';

export function assertRedisInstalled(env: NodeJS.ProcessEnv = process.env): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8', env });
  if (probe.error || probe.status !== 0) {
    throw new Error(INSTALL_HINT);
  }
}

/** Starts a private redis-server on a free port of 127.0.0.1, with its own data directory. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  assertRedisInstalled();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mupets-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--daemonize', 'no',
    '--appendonly', options.appendOnly ? 'yes' : 'no',
    '--appendfsync', 'always',
    '--loglevel', 'warning',
  ]; // prettier-ignore
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-4000);
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    let lastPing = '';
    await waitFor(
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) {
          throw new Error(`redis-server exited at start: ${output.trim() || '(no output)'}`);
        }
        const answer = await ping(port);
        lastPing = answer === true ? '' : answer;
        return answer === true;
      },
      { timeoutMs: 15_000, what: `redis-server on port ${port}`, failFast: true },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; last ping: ${lastPing}; server output: ${output.trim()}`);
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
    }
    await exited;
    child = undefined;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    start,
    async destroy() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `true` once the server answers PING (not while it is still loading its data), else why not. */
function ping(port: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG') ? true : `replied ${reply.trim()}`);
      }
    });
    socket.on('error', (error) => resolve(error.message));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(`no reply within 1 s (got ${JSON.stringify(reply)})`);
    });
  });
}
