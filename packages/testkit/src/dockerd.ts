import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { supervisedProcess } from './supervised-process';

export interface DockerdOptions {
  /**
   * Force a storage driver. Default: dockerd picks (overlay2 where the data root allows it, else
   * it falls back by itself, down to vfs), and `storageDriver` on the result says which.
   */
  storageDriver?: 'overlay2' | 'vfs';
  /** How long the daemon may take to answer `/_ping`. Default 60 000 ms. */
  timeoutMs?: number;
}

export interface Dockerd {
  /** The private daemon's API socket: `new Docker({ socketPath })`. */
  readonly socketPath: string;
  /** Everything of this daemon lives here (data root, exec root, pid file, socket). */
  readonly dir: string;
  /** The storage driver dockerd chose (`overlay2`, `vfs`, ...). */
  readonly storageDriver: string;
  /** Stops the daemon (its containers with it) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'dockerd is not installed: run `apt-get install -y docker.io` (Debian/Ubuntu)';

/** Throws with the install command when `dockerd` is not on the PATH. */
export function assertDockerdInstalled(env: NodeJS.ProcessEnv = process.env): void {
  const probe = spawnSync('dockerd', ['--version'], { encoding: 'utf8', env });
  if (probe.error || probe.status !== 0) {
    throw new Error(INSTALL_HINT);
  }
}

/**
 * Starts a PRIVATE dockerd: its own socket, data root, exec root, pid file and containerd
 * namespace under a fresh temporary directory, no bridge, no iptables, no TLS, no daemon.json of
 * the host, in a network namespace of its own (`unshare --net`): a dockerd started with
 * `--bridge=none` deletes the interface `docker0` as it starts, which would break the host's own
 * engine. Tests never touch the user's dockerd. Needs root (as dockerd does).
 */
export async function startDockerd(options: DockerdOptions = {}): Promise<Dockerd> {
  assertDockerdInstalled();
  if (process.getuid?.() !== 0) {
    throw new Error('a private dockerd needs root (mounts, cgroups, namespaces): run the integration tests as root');
  }
  const dir = mkdtempSync(join(tmpdir(), 'mupets-dockerd-'));
  const socketPath = join(dir, 'docker.sock');
  const execRoot = join(dir, 'exec');
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, '{}\n');
  const namespace = `mupets-test-${randomBytes(4).toString('hex')}`;
  const args = [
    '--host', `unix://${socketPath}`,
    '--data-root', join(dir, 'data'),
    '--exec-root', execRoot,
    '--pidfile', join(dir, 'docker.pid'),
    '--config-file', configFile,
    // even if dockerd finds a system containerd, its containers stay apart from everyone else's
    '--containerd-namespace', namespace,
    '--containerd-plugins-namespace', `${namespace}-plugins`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-forward=false',
    '--userland-proxy=false',
    // containers that ignore SIGTERM must not hold up stop()
    '--shutdown-timeout', '2',
    '--log-level', 'warn',
    ...(options.storageDriver ? ['--storage-driver', options.storageDriver] : []),
  ]; // prettier-ignore
  const server = supervisedProcess({
    what: `private dockerd on ${socketPath}`,
    // unshare execs dockerd (no --fork), so the supervised pid is dockerd's own
    command: 'unshare',
    args: ['--net', '--', 'dockerd', ...args],
    timeoutMs: options.timeoutMs ?? 60_000,
    intervalMs: 100,
    ready: async () => (await apiGet(socketPath, '/_ping')) === 'OK',
  });
  try {
    await server.start();
  } catch (error) {
    cleanUp(dir, execRoot);
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      // SIGTERM: dockerd stops its containers and its containerd, then unmounts
      await Promise.race([server.stop('SIGTERM'), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      await server.stop('SIGKILL');
      cleanUp(dir, execRoot);
    })();
    return stopped;
  };

  let storageDriver = 'unknown';
  try {
    const info = JSON.parse((await apiGet(socketPath, '/info')) ?? '{}') as { Driver?: string };
    storageDriver = info.Driver ?? storageDriver;
  } catch (error) {
    await stop();
    throw new Error('private dockerd answered /_ping but not /info', { cause: error });
  }
  return { socketPath, dir, storageDriver, stop };
}

/** The body of a GET on the daemon's socket, or undefined when it does not answer (yet). */
function apiGet(socketPath: string, path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * After dockerd is gone: a containerd it left behind (only after a SIGKILL) is killed, mounts
 * left under the directory are detached, then the directory is removed.
 */
function cleanUp(dir: string, execRoot: string): void {
  const containerdPid = join(execRoot, 'containerd', 'containerd.pid');
  if (existsSync(containerdPid)) {
    const pid = Number(readFileSync(containerdPid, 'utf8').trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${dir}/`))
    .reverse();
  for (const mountPoint of mounts) {
    spawnSync('umount', ['-l', mountPoint]);
  }
  rmSync(dir, { recursive: true, force: true });
}
