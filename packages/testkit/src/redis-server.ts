import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { supervisedProcess } from './supervised-process';

export interface RedisServerOptions {
  /** Persist every write to an append-only file, fsynced before the reply (survives SIGKILL). */
  appendOnly?: boolean;
  /** More redis-server arguments, after the harness's own (a later one wins), e.g. a compose file's. */
  extraArgs?: readonly string[];
  /**
   * Starts the server through this command line, given `redis-server` and its arguments after it
   * (as a container's entry point is), e.g. `['sh', 'deploy/redis/start.sh']`; with `env`.
   */
  launcher?: { readonly command: readonly [string, ...string[]]; readonly env?: NodeJS.ProcessEnv };
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
    ...(options.extraArgs ?? []),
  ]; // prettier-ignore
  const [command, ...launcherArgs] = options.launcher?.command ?? ['redis-server'];
  const server = supervisedProcess({
    what: `redis-server on port ${port}`,
    command,
    args: options.launcher ? [...launcherArgs, 'redis-server', ...args] : args,
    ...(options.launcher?.env ? { env: { ...process.env, ...options.launcher.env } } : {}),
    timeoutMs: 15_000,
    ready: async () => (await ping(port)) === true,
  });
  const { start, stop } = server;
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
